/**
 * The video pages' script (vanilla JS, served at /static/video.js): one
 * WebSocket to the hub's signalling, one RTCPeerConnection per other person
 * in the call (a mesh of at most four). The newcomer offers to everyone
 * already there, so offers never cross. On the tablet it shows incoming calls:
 * for trusted callers a countdown with a beep each second and a large
 * "not now" button, then answers by itself; for others it rings until answered
 * or declined. When a call ends each browser reports its getStats quality.
 * `window.mimamoriVideo` exposes state and stats for tests and support staff.
 */
export const videoClientScript = String.raw`
(function () {
  'use strict';
  var root = document.getElementById('video');
  if (!root || !window.WebSocket) return;
  var text = JSON.parse(root.dataset.text || '{}');
  var role = root.dataset.role;
  var ws, me = null, ice = [], policy = 'all', warnMs = 10000;
  var call = null; // { id, started, pcs: { peerId: RTCPeerConnection }, names }
  var local = null, ringing = null, countdown = null, beeper = null;
  var api = window.mimamoriVideo = { state: 'idle', peerId: null, lastError: null, calls: [], incoming: [] };
  function $(id) { return document.getElementById(id); }
  function setState(s, msg) {
    api.state = s; root.dataset.state = s;
    var st = $('video-status'); if (st) st.textContent = msg || text[s] || s;
  }
  function send(m) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(m)); }

  function media() {
    if (local) return Promise.resolve(local);
    return navigator.mediaDevices.getUserMedia({ video: true, audio: true }).then(function (s) {
      local = s; var v = $('local-video'); if (v) { v.srcObject = s; v.muted = true; v.play().catch(function () {}); }
      return s;
    });
  }
  function remoteVideo(peer) {
    var id = 'remote-' + peer, v = $(id);
    if (!v) {
      v = document.createElement('video'); v.id = id; v.autoplay = true; v.playsInline = true; v.className = 'remote-video';
      v.setAttribute('aria-label', (call && call.names[peer]) || '');
      $('remote-videos').appendChild(v);
    }
    return v;
  }
  function peerConnection(peer) {
    if (call.pcs[peer]) return call.pcs[peer];
    var pc = new RTCPeerConnection({ iceServers: ice, iceTransportPolicy: policy });
    call.pcs[peer] = pc;
    local.getTracks().forEach(function (t) { pc.addTrack(t, local); });
    pc.onicecandidate = function (e) { send({ type: 'signal', callId: call.id, to: peer, data: { candidate: e.candidate ? e.candidate.toJSON() : null } }); };
    pc.ontrack = function (e) { var v = remoteVideo(peer); if (v.srcObject !== e.streams[0]) { v.srcObject = e.streams[0]; v.play().catch(function () {}); } };
    pc.onconnectionstatechange = function () { if (pc.connectionState === 'connected') setState('connected'); };
    return pc;
  }
  function offerTo(peer) {
    var pc = peerConnection(peer);
    pc.createOffer().then(function (o) { return pc.setLocalDescription(o); }).then(function () {
      send({ type: 'signal', callId: call.id, to: peer, data: { description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } } });
    });
  }
  function onSignal(m) {
    if (!call || m.callId !== call.id) return;
    media().then(function () {
      var pc = peerConnection(m.from), d = m.data;
      if (d.description) {
        return pc.setRemoteDescription(d.description).then(function () {
          if (d.description.type !== 'offer') return;
          return pc.createAnswer().then(function (a) { return pc.setLocalDescription(a); }).then(function () {
            send({ type: 'signal', callId: call.id, to: m.from, data: { description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } } });
          });
        });
      }
      if (d.candidate) return pc.addIceCandidate(d.candidate);
    }).catch(function (e) { api.lastError = String(e); });
  }

  /** Sums what the browser measured over every connection of the call. */
  function stats() {
    if (!call) return Promise.resolve(null);
    var pcs = Object.keys(call.pcs).map(function (k) { return call.pcs[k]; });
    return Promise.all(pcs.map(function (pc) { return pc.getStats(); })).then(function (reports) {
      var out = { framesDecoded: 0, rttMs: undefined, packetsLost: 0, packetsReceived: 0, relay: false, connected: pcs.length > 0 && pcs.every(function (pc) { return pc.connectionState === 'connected'; }) };
      reports.forEach(function (r) {
        var pairs = {}, locals = {};
        r.forEach(function (s) {
          if (s.type === 'inbound-rtp') { if (s.kind === 'video') out.framesDecoded += s.framesDecoded || 0; out.packetsLost += s.packetsLost || 0; out.packetsReceived += s.packetsReceived || 0; }
          if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') { pairs[s.id] = s; if (s.currentRoundTripTime !== undefined) out.rttMs = Math.max(out.rttMs || 0, s.currentRoundTripTime * 1000); }
          if (s.type === 'local-candidate') locals[s.id] = s;
        });
        Object.keys(pairs).forEach(function (k) { var l = locals[pairs[k].localCandidateId]; if (l && l.candidateType === 'relay') out.relay = true; });
      });
      var total = out.packetsLost + out.packetsReceived;
      out.packetLossPct = total > 0 ? (100 * out.packetsLost) / total : 0;
      return out;
    });
  }
  api.stats = stats;

  function stopAlerting() {
    if (countdown) { clearInterval(countdown); countdown = null; }
    if (beeper) { try { beeper.close(); } catch (e) {} beeper = null; }
    var box = $('incoming'); if (box) box.hidden = true;
    ringing = null;
  }
  function beep(freq) {
    try {
      beeper = beeper || new (window.AudioContext || window.webkitAudioContext)();
      var o = beeper.createOscillator(), g = beeper.createGain();
      o.frequency.value = freq; g.gain.value = 0.3; o.connect(g); g.connect(beeper.destination);
      o.start(); o.stop(beeper.currentTime + 0.25);
    } catch (e) { /* no audio device: the screen still warns */ }
  }
  function finish(reason) {
    stopAlerting();
    if (!call) { setState('idle', text[reason] || ''); return; }
    var done = call, duration = Date.now() - done.started;
    stats().then(function (s) {
      if (done.connected) send({ type: 'quality', callId: done.id, durationMs: duration, rttMs: s && s.rttMs, packetLossPct: s && s.packetLossPct, framesDecoded: s && s.framesDecoded });
      Object.keys(done.pcs).forEach(function (k) { done.pcs[k].close(); });
    });
    call = null;
    $('remote-videos').innerHTML = '';
    if (local) { local.getTracks().forEach(function (t) { t.stop(); }); local = null; }
    api.calls.push({ id: done.id, reason: reason });
    setState('idle', text[reason] || '');
    var notes = $('note-form'); if (notes && done.connected) { notes.hidden = false; var c = $('note-call'); if (c) c.value = done.id; }
    var hang = $('hangup-button'); if (hang) hang.hidden = true;
  }

  function incoming(m) {
    ringing = m;
    var box = $('incoming'); if (!box) return;
    box.hidden = false;
    $('incoming-from').textContent = m.from.name;
    var answerButton = $('answer-button'), counter = $('incoming-countdown');
    if (m.autoAnswerMs !== null) {
      answerButton.hidden = true;
      var left = Math.ceil(m.autoAnswerMs / 1000), started = Date.now();
      counter.hidden = false; counter.textContent = String(left);
      beep(880);
      countdown = setInterval(function () {
        var remaining = m.autoAnswerMs - (Date.now() - started);
        counter.textContent = String(Math.max(0, Math.ceil(remaining / 1000)));
        if (remaining <= 0) { var r = ringing; stopAlerting(); answer(r, true); } else beep(880);
      }, Math.min(1000, Math.max(50, m.autoAnswerMs / 10)));
    } else {
      answerButton.hidden = false; counter.hidden = true;
      beep(660);
      countdown = setInterval(function () { beep(660); }, 2000);
    }
    // What the resident was shown, for tests and support staff.
    api.incoming.push({ callId: m.callId, from: m.from.name, autoAnswerMs: m.autoAnswerMs, notNowShown: !box.hidden && !$('not-now-button').hidden, countdownShown: !counter.hidden, answerShown: !answerButton.hidden });
  }
  function answer(m, auto) {
    if (!m) return;
    stopAlerting();
    call = { id: m.callId, pcs: {}, names: {}, started: Date.now(), connected: false };
    media().then(function () { send({ type: 'answer', callId: m.callId, auto: auto }); }).catch(function (e) { api.lastError = String(e); send({ type: 'decline', callId: m.callId }); call = null; });
  }

  function connect() {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/video/ws');
    ws.onmessage = function (ev) {
      var m = JSON.parse(ev.data);
      switch (m.type) {
        case 'welcome': me = m.peerId; api.peerId = me; ice = m.iceServers; policy = m.iceTransportPolicy || 'all'; warnMs = m.autoAnswerWarningMs; setState('ready'); break;
        case 'ringing': call = { id: m.callId, pcs: {}, names: {}, started: Date.now(), connected: false }; setState('ringing'); $('hangup-button').hidden = false; break;
        case 'incoming': incoming(m); break;
        case 'joined':
          if (!call || call.id !== m.callId) call = { id: m.callId, pcs: {}, names: {}, started: Date.now(), connected: false };
          call.connected = true; call.names = m.names; setState('joining');
          var hang = $('hangup-button'); if (hang) hang.hidden = false;
          media().then(function () { m.offerTo.forEach(offerTo); });
          break;
        case 'peer-joined': if (call) call.names[m.peer] = m.name; break;
        case 'peer-left': if (call && call.pcs[m.peer]) { call.pcs[m.peer].close(); delete call.pcs[m.peer]; var v = $('remote-' + m.peer); if (v) v.remove(); } break;
        case 'signal': onSignal(m); break;
        case 'ended': if (ringing && ringing.callId === m.callId) { stopAlerting(); setState('idle'); } else if (call && call.id === m.callId) finish(m.reason); break;
        case 'error':
          api.lastError = m.code;
          if (call && call.id === m.callId && !call.connected) { call = null; if (local) { local.getTracks().forEach(function (t) { t.stop(); }); local = null; } }
          setState(call ? api.state : 'ready', m.message);
          break;
      }
    };
    ws.onclose = function () { if (call) finish('ended'); setState('offline'); setTimeout(connect, 3000); };
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button') : null;
    if (!b) return;
    if (b.id === 'answer-button') { e.preventDefault(); answer(ringing, false); }
    else if (b.id === 'not-now-button') { e.preventDefault(); if (ringing) send({ type: 'decline', callId: ringing.callId }); stopAlerting(); setState('ready'); }
    else if (b.id === 'hangup-button') { e.preventDefault(); if (call) { send({ type: 'hangup', callId: call.id }); } }
    else if (b.dataset.call !== undefined) {
      e.preventDefault();
      var m = { type: 'call', home: b.dataset.call };
      if (b.dataset.checkin) m.checkin = b.dataset.checkin;
      if (b.dataset.lookIn) m.lookIn = b.dataset.lookIn;
      media().then(function () { send(m); }).catch(function (err) { api.lastError = String(err); });
    } else if (b.dataset.join) { e.preventDefault(); send({ type: 'join', callId: b.dataset.join }); }
  });
  setState('connecting');
  connect();
})();
`;
