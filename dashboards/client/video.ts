/**
 * The video pages' script (served at /static/video.js): one WebSocket to the
 * hub's signalling, one RTCPeerConnection per other person in the call (a mesh
 * of at most four). The newcomer offers to everyone already there, so offers
 * never cross. On the tablet it shows incoming calls: for trusted callers a
 * countdown with a beep each second and a large "not now" button, then answers
 * by itself; for others it rings until answered or declined. When a call ends
 * each browser reports its getStats quality. `window.mimamoriVideo` exposes
 * state and stats for tests and support staff. The messages are those of
 * dashboards/video-protocol.ts (the hub validates what we send).
 */

type SignalData = { description?: RTCSessionDescriptionInit; candidate?: RTCIceCandidateInit | null };
type ServerMessage =
  | { type: 'welcome'; peerId: string; iceServers: RTCIceServer[]; iceTransportPolicy?: RTCIceTransportPolicy; autoAnswerWarningMs: number }
  | { type: 'ringing'; callId: string }
  | { type: 'incoming'; callId: string; from: { id: string; name: string }; autoAnswerMs: number | null }
  | { type: 'joined'; callId: string; offerTo: string[]; names: Record<string, string> }
  | { type: 'peer-joined'; peer: string; name: string }
  | { type: 'peer-left'; peer: string }
  | { type: 'signal'; callId: string; from: string; data: SignalData }
  | { type: 'ended'; callId: string; reason: string }
  | { type: 'error'; code: string; message: string; callId?: string };
type Incoming = Extract<ServerMessage, { type: 'incoming' }>;

interface Call { id: string; started: number; connected: boolean; pcs: Record<string, RTCPeerConnection>; names: Record<string, string> }
interface Quality { framesDecoded: number; rttMs: number | undefined; packetsLost: number; packetsReceived: number; relay: boolean; connected: boolean; packetLossPct: number }
interface VideoApi {
  state: string; peerId: string | null; lastError: string | null;
  calls: Array<{ id: string; reason: string }>;
  incoming: Array<{ callId: string; from: string; autoAnswerMs: number | null; notNowShown: boolean; countdownShown: boolean; answerShown: boolean }>;
  stats?: () => Promise<Quality | null>;
}

const root = document.getElementById('video');
if (root && 'WebSocket' in window) startVideo(root);

function startVideo(root: HTMLElement): void {
  const text = JSON.parse(root.dataset.text ?? '{}') as Record<string, string>;
  let ws: WebSocket | undefined;
  let ice: RTCIceServer[] = [];
  let policy: RTCIceTransportPolicy = 'all';
  let call: Call | null = null;
  let local: MediaStream | null = null;
  let ringing: Incoming | null = null;
  let countdown: ReturnType<typeof setInterval> | null = null;
  let beeper: AudioContext | null = null;
  const api: VideoApi = { state: 'idle', peerId: null, lastError: null, calls: [], incoming: [] };
  (window as unknown as { mimamoriVideo: VideoApi }).mimamoriVideo = api;
  const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T | null;

  function setState(s: string, msg?: string): void {
    api.state = s; root.dataset.state = s;
    const st = $('video-status'); if (st) st.textContent = msg || text[s] || s;
  }
  function send(m: Record<string, unknown>): void { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); }
  const newCall = (id: string): Call => ({ id, pcs: {}, names: {}, started: Date.now(), connected: false });

  async function media(): Promise<MediaStream> {
    if (local) return local;
    const s = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    local = s;
    const v = $<HTMLVideoElement>('local-video');
    if (v) { v.srcObject = s; v.muted = true; v.play().catch(() => undefined); }
    return s;
  }
  function remoteVideo(peer: string): HTMLVideoElement {
    const id = `remote-${peer}`;
    let v = $<HTMLVideoElement>(id);
    if (!v) {
      v = document.createElement('video'); v.id = id; v.autoplay = true; v.playsInline = true; v.className = 'remote-video';
      v.setAttribute('aria-label', call?.names[peer] ?? '');
      $('remote-videos')?.appendChild(v);
    }
    return v;
  }
  function peerConnection(c: Call, peer: string): RTCPeerConnection {
    const existing = c.pcs[peer];
    if (existing) return existing;
    const pc = new RTCPeerConnection({ iceServers: ice, iceTransportPolicy: policy });
    c.pcs[peer] = pc;
    for (const t of local?.getTracks() ?? []) pc.addTrack(t, local!);
    pc.onicecandidate = (e) => send({ type: 'signal', callId: c.id, to: peer, data: { candidate: e.candidate ? e.candidate.toJSON() : null } });
    pc.ontrack = (e) => { const v = remoteVideo(peer); if (v.srcObject !== e.streams[0]) { v.srcObject = e.streams[0] ?? null; v.play().catch(() => undefined); } };
    pc.onconnectionstatechange = () => { if (pc.connectionState === 'connected') setState('connected'); };
    return pc;
  }
  const description = (pc: RTCPeerConnection) => ({ description: { type: pc.localDescription!.type, sdp: pc.localDescription!.sdp } });
  async function offerTo(c: Call, peer: string): Promise<void> {
    const pc = peerConnection(c, peer);
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: 'signal', callId: c.id, to: peer, data: description(pc) });
  }
  async function onSignal(m: Extract<ServerMessage, { type: 'signal' }>): Promise<void> {
    if (!call || m.callId !== call.id) return;
    const c = call;
    try {
      await media();
      const pc = peerConnection(c, m.from);
      const d = m.data;
      if (d.description) {
        await pc.setRemoteDescription(d.description);
        if (d.description.type !== 'offer') return;
        await pc.setLocalDescription(await pc.createAnswer());
        send({ type: 'signal', callId: c.id, to: m.from, data: description(pc) });
        return;
      }
      if (d.candidate) await pc.addIceCandidate(d.candidate);
    } catch (e) { api.lastError = String(e); }
  }

  /** Sums what the browser measured over every connection of the call. */
  async function stats(): Promise<Quality | null> {
    if (!call) return null;
    const pcs = Object.values(call.pcs);
    const reports = await Promise.all(pcs.map((pc) => pc.getStats()));
    const out: Quality = { framesDecoded: 0, rttMs: undefined, packetsLost: 0, packetsReceived: 0, relay: false, connected: pcs.length > 0 && pcs.every((pc) => pc.connectionState === 'connected'), packetLossPct: 0 };
    for (const r of reports) {
      const pairs: Record<string, { localCandidateId?: string }> = {};
      const locals: Record<string, { candidateType?: string }> = {};
      r.forEach((s: Record<string, unknown> & { type: string; id: string }) => {
        if (s.type === 'inbound-rtp') {
          if (s.kind === 'video') out.framesDecoded += Number(s.framesDecoded ?? 0);
          out.packetsLost += Number(s.packetsLost ?? 0); out.packetsReceived += Number(s.packetsReceived ?? 0);
        }
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
          pairs[s.id] = s as { localCandidateId?: string };
          if (typeof s.currentRoundTripTime === 'number') out.rttMs = Math.max(out.rttMs ?? 0, s.currentRoundTripTime * 1000);
        }
        if (s.type === 'local-candidate') locals[s.id] = s as { candidateType?: string };
      });
      for (const p of Object.values(pairs)) if (p.localCandidateId && locals[p.localCandidateId]?.candidateType === 'relay') out.relay = true;
    }
    const total = out.packetsLost + out.packetsReceived;
    out.packetLossPct = total > 0 ? (100 * out.packetsLost) / total : 0;
    return out;
  }
  api.stats = stats;

  function stopAlerting(): void {
    if (countdown) { clearInterval(countdown); countdown = null; }
    if (beeper) { beeper.close().catch(() => undefined); beeper = null; }
    const box = $('incoming'); if (box) box.hidden = true;
    ringing = null;
  }
  function beep(freq: number): void {
    try {
      beeper ??= new AudioContext();
      const o = beeper.createOscillator(), g = beeper.createGain();
      o.frequency.value = freq; g.gain.value = 0.3; o.connect(g); g.connect(beeper.destination);
      o.start(); o.stop(beeper.currentTime + 0.25);
    } catch { /* no audio device: the screen still warns */ }
  }
  function stopLocal(): void { for (const t of local?.getTracks() ?? []) t.stop(); local = null; }
  function finish(reason: string): void {
    stopAlerting();
    if (!call) { setState('idle', text[reason] ?? ''); return; }
    const done = call, duration = Date.now() - done.started;
    void stats().then((s) => {
      if (done.connected) send({ type: 'quality', callId: done.id, durationMs: duration, rttMs: s?.rttMs, packetLossPct: s?.packetLossPct, framesDecoded: s?.framesDecoded });
      for (const pc of Object.values(done.pcs)) pc.close();
    });
    call = null;
    $('remote-videos')?.replaceChildren();
    stopLocal();
    api.calls.push({ id: done.id, reason });
    setState('idle', text[reason] ?? '');
    const notes = $('note-form');
    if (notes && done.connected) { notes.hidden = false; const c = $<HTMLInputElement>('note-call'); if (c) c.value = done.id; }
    const hang = $('hangup-button'); if (hang) hang.hidden = true;
  }

  function incoming(m: Incoming): void {
    ringing = m;
    const box = $('incoming'), answerButton = $('answer-button'), counter = $('incoming-countdown');
    if (!box || !answerButton || !counter) return;
    box.hidden = false;
    const from = $('incoming-from'); if (from) from.textContent = m.from.name;
    if (m.autoAnswerMs !== null) {
      const warnMs = m.autoAnswerMs, started = Date.now();
      answerButton.hidden = true;
      counter.hidden = false; counter.textContent = String(Math.ceil(warnMs / 1000));
      beep(880);
      countdown = setInterval(() => {
        const remaining = warnMs - (Date.now() - started);
        counter.textContent = String(Math.max(0, Math.ceil(remaining / 1000)));
        if (remaining <= 0) { const r = ringing; stopAlerting(); answer(r, true); } else beep(880);
      }, Math.min(1000, Math.max(50, warnMs / 10)));
    } else {
      answerButton.hidden = false; counter.hidden = true;
      beep(660);
      countdown = setInterval(() => beep(660), 2000);
    }
    // What the resident was shown, for tests and support staff.
    api.incoming.push({ callId: m.callId, from: m.from.name, autoAnswerMs: m.autoAnswerMs, notNowShown: !box.hidden && !$('not-now-button')?.hidden, countdownShown: !counter.hidden, answerShown: !answerButton.hidden });
  }
  function answer(m: Incoming | null, auto: boolean): void {
    if (!m) return;
    stopAlerting();
    call = newCall(m.callId);
    media().then(() => send({ type: 'answer', callId: m.callId, auto })).catch((e: unknown) => { api.lastError = String(e); send({ type: 'decline', callId: m.callId }); call = null; });
  }

  function onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'welcome': api.peerId = m.peerId; ice = m.iceServers; policy = m.iceTransportPolicy ?? 'all'; setState('ready'); break;
      case 'ringing': { call = newCall(m.callId); setState('ringing'); const hang = $('hangup-button'); if (hang) hang.hidden = false; break; }
      case 'incoming': incoming(m); break;
      case 'joined': {
        if (!call || call.id !== m.callId) call = newCall(m.callId);
        const c = call;
        c.connected = true; c.names = m.names; setState('joining');
        const hang = $('hangup-button'); if (hang) hang.hidden = false;
        void media().then(() => Promise.all(m.offerTo.map((peer) => offerTo(c, peer)))).catch((e: unknown) => { api.lastError = String(e); });
        break;
      }
      case 'peer-joined': if (call) call.names[m.peer] = m.name; break;
      case 'peer-left': {
        const pc = call?.pcs[m.peer];
        if (call && pc) { pc.close(); delete call.pcs[m.peer]; $(`remote-${m.peer}`)?.remove(); }
        break;
      }
      case 'signal': void onSignal(m); break;
      case 'ended': if (ringing && ringing.callId === m.callId) { stopAlerting(); setState('idle'); } else if (call && call.id === m.callId) finish(m.reason); break;
      case 'error':
        api.lastError = m.code;
        if (call && call.id === m.callId && !call.connected) { call = null; stopLocal(); }
        setState(call ? api.state : 'ready', m.message);
        break;
    }
  }

  function connect(): void {
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}/video/ws`);
    ws.onmessage = (ev: MessageEvent<string>) => onMessage(JSON.parse(ev.data) as ServerMessage);
    ws.onclose = () => { if (call) finish('ended'); setState('offline'); setTimeout(connect, 3000); };
  }

  document.addEventListener('click', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button') : null;
    if (!b) return;
    if (b.id === 'answer-button') { e.preventDefault(); answer(ringing, false); }
    else if (b.id === 'not-now-button') { e.preventDefault(); if (ringing) send({ type: 'decline', callId: ringing.callId }); stopAlerting(); setState('ready'); }
    else if (b.id === 'hangup-button') { e.preventDefault(); if (call) send({ type: 'hangup', callId: call.id }); }
    else if (b.dataset.call !== undefined) {
      e.preventDefault();
      const m: Record<string, string> = { type: 'call', home: b.dataset.call };
      if (b.dataset.checkin) m.checkin = b.dataset.checkin;
      if (b.dataset.lookIn) m.lookIn = b.dataset.lookIn;
      media().then(() => send(m)).catch((err: unknown) => { api.lastError = String(err); });
    } else if (b.dataset.join) { e.preventDefault(); send({ type: 'join', callId: b.dataset.join }); }
  });
  setState('connecting');
  connect();
}
