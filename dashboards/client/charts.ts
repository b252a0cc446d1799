/**
 * Charts drawn from the JSON the server allows this viewer to see
 * (`<canvas data-src="…/rhythm.json">`), with chart.js when it is loaded.
 * Each chart's figures are also written into its text alternative
 * (`data-describe` names the element), so the numbers are there without sight.
 */

interface ChartData { labels: string[]; values: number[]; usual?: number[]; summary?: string }
interface ChartConstructor { new (canvas: HTMLCanvasElement, config: unknown): unknown }

function chartLib(): ChartConstructor | undefined {
  return (window as unknown as { Chart?: ChartConstructor }).Chart;
}

/** Draws every chart of the page not drawn yet. */
export function drawCharts(root: ParentNode = document): void {
  for (const canvas of Array.from(root.querySelectorAll<HTMLCanvasElement>('canvas[data-src]'))) {
    if (canvas.dataset.drawn) continue;
    canvas.dataset.drawn = '1';
    const src = canvas.dataset.src!;
    void fetch(src, { headers: { accept: 'application/json' } })
      .then((r) => (r.ok ? (r.json() as Promise<ChartData>) : null))
      .then((data) => {
        if (!data) return;
        canvas.dataset.total = String(data.values.reduce((a, b) => a + b, 0));
        const describe = canvas.dataset.describe ? document.getElementById(canvas.dataset.describe) : null;
        if (describe && data.summary) describe.textContent = data.summary;
        const Chart = chartLib();
        if (!Chart) return;
        const datasets: unknown[] = [{ type: 'bar', label: canvas.getAttribute('aria-label') ?? '', data: data.values, backgroundColor: '#0b4f8a' }];
        if (data.usual) datasets.push({ type: 'line', label: canvas.dataset.usualLabel ?? '', data: data.usual, borderColor: '#8a4b00', pointRadius: 0 });
        new Chart(canvas, {
          type: 'bar',
          data: { labels: data.labels, datasets },
          options: { animation: false, plugins: { legend: { display: Boolean(data.usual) } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
        });
      })
      .catch(() => { delete canvas.dataset.drawn; });
  }
}
