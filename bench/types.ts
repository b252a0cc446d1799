/** One printed benchmark figure, optionally against a reference measured in the same run. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  reference?: { name: string; value: number };
  /** value / reference (or reference / value for "lower is better" figures, said in notes). */
  ratio?: number;
  /** The goal this figure is held to, in words, and whether it was met. */
  target?: string;
  notes?: string;
}
