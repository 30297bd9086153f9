// The ecsworld live map: an observer client of the gate, in plain
// JavaScript. It speaks netproto framing (uint32 length, uint16 type,
// payload) and decodes the CBOR it needs; see package demo's doc.
"use strict";

const MSG = { Heartbeat: 0x0001, ClientHello: 0x0100, ClientWelcome: 0x0101, CallClient: 0x0107, Disconnect: 0x010A };
const PROTOCOL_VERSION = 1;
const OBSERVE_METHOD = "ecsworld.observe";
const RECORD_SIZE = 22;
const MAX_FRAME = 64 << 10; // netproto.DefaultClientMaxFrame
const COMPRESSION_FLAGS = 0xC000;
const SPACE_TTL_MS = 2000; // a space missing from views this long is gone
const LERP_MS = 200; // one view period

// What the page has done, for people and tests (the browser test reads it).
const stats = window.ecsworldMap = {
  state: "connecting", error: "", welcomed: false, frames: 0, views: 0,
  spaces: 0, entities: 0, dotsDrawn: 0, lastDots: 0,
};

const token = new URLSearchParams(location.search).get("token") || "";

// ---- CBOR (RFC 8949), the subset netproto uses, bounded. ----

class CBORError extends Error {}

function cborDecode(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n) => { if (n > bytes.length - pos) throw new CBORError("truncated"); };
  const arg = (info) => {
    if (info < 24) return info;
    if (info === 24) { need(1); return dv.getUint8(pos++); }
    if (info === 25) { need(2); const v = dv.getUint16(pos); pos += 2; return v; }
    if (info === 26) { need(4); const v = dv.getUint32(pos); pos += 4; return v; }
    if (info === 27) {
      need(8); const v = dv.getBigUint64(pos); pos += 8;
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; // large ids stay exact
    }
    throw new CBORError("unsupported length encoding " + info);
  };
  const item = (depth) => {
    if (depth > 16) throw new CBORError("nested too deep");
    need(1);
    const b = dv.getUint8(pos++);
    const major = b >> 5, info = b & 31;
    switch (major) {
      case 0: return arg(info);
      case 1: { const v = arg(info); return typeof v === "bigint" ? -1n - v : -1 - v; }
      case 2: case 3: {
        const n = arg(info);
        if (typeof n !== "number") throw new CBORError("string too long");
        need(n);
        const s = bytes.subarray(pos, pos + n); pos += n;
        return major === 2 ? s : new TextDecoder("utf-8", { fatal: true }).decode(s);
      }
      case 4: {
        const n = arg(info);
        if (typeof n !== "number" || n > bytes.length - pos) throw new CBORError("array too long");
        const a = new Array(n);
        for (let i = 0; i < n; i++) a[i] = item(depth + 1);
        return a;
      }
      case 5: {
        const n = arg(info);
        if (typeof n !== "number" || 2 * n > bytes.length - pos) throw new CBORError("map too long");
        const m = {};
        for (let i = 0; i < n; i++) { const k = item(depth + 1); m[String(k)] = item(depth + 1); }
        return m;
      }
      case 7:
        switch (info) {
          case 20: return false;
          case 21: return true;
          case 22: case 23: return null;
          case 25: { need(2); const h = dv.getUint16(pos); pos += 2; return half(h); }
          case 26: { need(4); const v = dv.getFloat32(pos); pos += 4; return v; }
          case 27: { need(8); const v = dv.getFloat64(pos); pos += 8; return v; }
        }
    }
    throw new CBORError("unsupported item 0x" + b.toString(16));
  };
  const v = item(0);
  if (pos !== bytes.length) throw new CBORError("trailing bytes");
  return v;
}

function half(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

// Encoding: just what ClientHello needs (small maps of uints and texts).
function cborHead(major, n, out) {
  if (n < 24) out.push((major << 5) | n);
  else if (n < 256) out.push((major << 5) | 24, n);
  else if (n < 65536) out.push((major << 5) | 25, n >> 8, n & 255);
  else throw new CBORError("too long");
}
function cborEncodeMap(m) {
  const out = [];
  const keys = Object.keys(m);
  cborHead(5, keys.length, out);
  for (const k of keys) {
    cborHead(0, Number(k), out);
    const v = m[k];
    if (typeof v === "number") cborHead(0, v, out);
    else { const b = new TextEncoder().encode(v); cborHead(3, b.length, out); out.push(...b); }
  }
  return new Uint8Array(out);
}

// ---- netproto framing ----

function frame(type, payload) {
  const b = new Uint8Array(6 + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 2 + payload.length);
  dv.setUint16(4, type);
  b.set(payload, 6);
  return b;
}

let ws = null, pending = new Uint8Array(0), heartbeat = 0;

function fail(msg) {
  stats.state = "error";
  stats.error = msg;
  setState(msg, true);
  if (ws) ws.close();
}

function setState(text, bad) {
  const el = document.getElementById("state");
  el.textContent = text;
  el.className = bad ? "bad" : "";
}

function connect() {
  if (!token) {
    fail("no token in the URL: open the address `ecsworld demo` printed");
    return;
  }
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    stats.state = "hello";
    ws.send(frame(MSG.ClientHello, cborEncodeMap({ 1: PROTOCOL_VERSION, 2: token, 3: "observer" })));
  };
  ws.onmessage = (ev) => {
    const chunk = new Uint8Array(ev.data);
    const all = new Uint8Array(pending.length + chunk.length);
    all.set(pending); all.set(chunk, pending.length);
    let off = 0;
    try {
      while (all.length - off >= 6) {
        const dv = new DataView(all.buffer, off);
        const len = dv.getUint32(0);
        if (len < 2 || len > MAX_FRAME) throw new CBORError("frame of " + len + " bytes");
        if (all.length - off < 4 + len) break;
        const type = dv.getUint16(4);
        handle(type, all.subarray(off + 6, off + 4 + len));
        off += 4 + len;
      }
    } catch (e) {
      fail("bad data from the gate: " + e.message);
      return;
    }
    pending = all.slice(off);
  };
  ws.onclose = () => {
    clearInterval(heartbeat);
    if (stats.state !== "error") {
      stats.state = "closed";
      setState("disconnected; reconnecting…", true);
      setTimeout(connect, 2000);
    }
  };
}

function handle(type, payload) {
  stats.frames++;
  if (type & COMPRESSION_FLAGS) {
    throw new CBORError("compressed frame: the live map needs the gate's client compression set to \"none\"");
  }
  switch (type) {
    case MSG.Heartbeat:
      return;
    case MSG.ClientWelcome: {
      const m = cborDecode(payload);
      stats.welcomed = true;
      stats.state = "watching";
      setState("watching (client " + m["1"] + ")", false);
      const every = Math.max(500, Math.min(Number(m["2"]) || 5000, 5000));
      heartbeat = setInterval(() => { if (ws.readyState === 1) ws.send(frame(MSG.Heartbeat, new Uint8Array(0))); }, every);
      return;
    }
    case MSG.Disconnect: {
      const m = cborDecode(payload);
      fail("the gate disconnected the map: " + (m["1"] || "code " + m["2"]));
      return;
    }
    case MSG.CallClient: {
      const m = cborDecode(payload);
      if (m["2"] === OBSERVE_METHOD && m["3"] instanceof Uint8Array) view(cborDecode(m["3"]));
      return;
    }
  }
}

// ---- the views ----

const spaces = new Map(); // space id → {type, seq, parts, got, next, entities, seen}

function view(a) {
  if (!Array.isArray(a) || a.length < 7) throw new CBORError("observer view is not a 7-item array");
  const [seq, spaceID, stype, part, parts, types, recs] = a;
  if (!Array.isArray(types) || !(recs instanceof Uint8Array) || recs.length % RECORD_SIZE !== 0) {
    throw new CBORError("malformed observer view");
  }
  stats.views++;
  const key = String(spaceID);
  let sp = spaces.get(key);
  if (!sp) { sp = { type: stype, seq: -1, parts: 0, got: new Set(), next: [], entities: new Map(), seen: 0, extent: 10 }; spaces.set(key, sp); }
  if (sp.seq !== seq) { sp.seq = seq; sp.got = new Set(); sp.next = []; }
  sp.parts = parts;
  const dv = new DataView(recs.buffer, recs.byteOffset, recs.byteLength);
  for (let o = 0; o < recs.length; o += RECORD_SIZE) {
    const ti = dv.getUint16(o + 8);
    if (ti >= types.length) throw new CBORError("record type index out of range");
    sp.next.push({ id: dv.getBigUint64(o).toString(), type: types[ti], x: dv.getFloat32(o + 10), z: dv.getFloat32(o + 14), r: dv.getFloat32(o + 18) });
  }
  sp.got.add(part);
  if (sp.got.size >= parts) commit(sp);
}

// commit makes a complete round the space's entities, keeping where each
// was drawn so it glides to its new place.
function commit(sp) {
  const now = performance.now();
  const ents = new Map();
  for (const e of sp.next) {
    const old = sp.entities.get(e.id);
    if (old) { const p = pos(old, now); e.px = p[0]; e.pz = p[1]; } else { e.px = e.x; e.pz = e.z; }
    e.t = now;
    ents.set(e.id, e);
  }
  sp.entities = ents;
  sp.next = [];
  sp.seen = now;
}

function pos(e, now) {
  const k = Math.min(1, (now - e.t) / LERP_MS);
  return [e.px + (e.x - e.px) * k, e.pz + (e.z - e.pz) * k];
}

// ---- drawing ----

const canvas = document.getElementById("canvas");
const ctx = canvas.getContext("2d");
const tip = document.getElementById("tip");
let mouse = null;
canvas.addEventListener("mousemove", (ev) => { const r = canvas.getBoundingClientRect(); mouse = [ev.clientX - r.left, ev.clientY - r.top]; });
canvas.addEventListener("mouseleave", () => { mouse = null; });

const palette = ["#88c0d0", "#ebcb8b", "#a3be8c", "#b48ead", "#d08770", "#bf616a", "#8fbcbb", "#5e81ac"];
const typeColors = new Map();
function color(type) {
  if (!typeColors.has(type)) {
    typeColors.set(type, palette[typeColors.size % palette.length]);
    const el = document.getElementById("legend");
    el.innerHTML = "";
    for (const [t, c] of typeColors) {
      const s = document.createElement("span");
      const i = document.createElement("i");
      i.style.background = c;
      s.append(i, t);
      el.append(s);
    }
  }
  return typeColors.get(type);
}

function draw() {
  const now = performance.now();
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#10141a";
  ctx.fillRect(0, 0, w, h);
  for (const [k, sp] of spaces) if (now - sp.seen > SPACE_TTL_MS && sp.seen > 0) spaces.delete(k);
  const list = [...spaces.entries()].filter(([, sp]) => sp.seen > 0);
  stats.spaces = list.length;
  const cols = Math.max(1, Math.ceil(Math.sqrt(list.length)));
  const rows = Math.max(1, Math.ceil(list.length / cols));
  const pw = w / cols, ph = h / rows;
  let dots = 0, entities = 0, hover = null;
  list.forEach(([id, sp], i) => {
    const ox = (i % cols) * pw, oy = Math.floor(i / cols) * ph;
    const size = Math.min(pw, ph) - 24;
    const cx = ox + pw / 2, cy = oy + ph / 2 + 8;
    let far = 10;
    for (const e of sp.entities.values()) far = Math.max(far, Math.abs(e.x), Math.abs(e.z));
    sp.extent = far > sp.extent ? far : sp.extent + (far - sp.extent) * 0.02;
    const scale = size / 2 / (sp.extent * 1.05);
    ctx.strokeStyle = "#2a3240";
    ctx.strokeRect(cx - size / 2, cy - size / 2, size, size);
    ctx.fillStyle = "#81a1c1";
    ctx.fillText(sp.type + " " + id + " · " + sp.entities.size + " entities", ox + 8, oy + 14);
    for (const e of sp.entities.values()) {
      const [x, z] = pos(e, now);
      const sx = cx + x * scale, sy = cy - z * scale;
      ctx.fillStyle = color(e.type);
      ctx.beginPath();
      ctx.arc(sx, sy, 3, 0, 2 * Math.PI);
      ctx.fill();
      dots++;
      if (dots === 1) stats.firstDot = [sx, sy]; // where a test may hover
      if (mouse) {
        const d = Math.hypot(mouse[0] - sx, mouse[1] - sy);
        if (d < 8 && (!hover || d < hover.d)) hover = { d, e, sx, sy, scale, x, z };
      }
    }
    entities += sp.entities.size;
  });
  stats.hovered = hover ? hover.e.id : "";
  if (hover) {
    const { e, sx, sy, scale, x, z } = hover;
    ctx.strokeStyle = color(e.type);
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.arc(sx, sy, Math.max(0, e.r * scale), 0, 2 * Math.PI);
    ctx.stroke();
    ctx.setLineDash([]);
    tip.style.display = "block";
    tip.style.left = (sx + 12) + "px";
    tip.style.top = (sy + 12) + "px";
    tip.textContent = e.type + " " + e.id + "\nx " + x.toFixed(1) + "  z " + z.toFixed(1) + "\nAOI radius " + e.r;
  } else {
    tip.style.display = "none";
  }
  if (list.length === 0) {
    ctx.fillStyle = "#4c566a";
    ctx.fillText(stats.welcomed ? "waiting for the first view…" : "connecting to the gate…", 16, 24);
  }
  stats.entities = entities;
  stats.lastDots = dots;
  stats.dotsDrawn += dots;
  document.getElementById("counts").textContent = list.length + " space(s), " + entities + " entities";
  requestAnimationFrame(draw);
}

// ---- the status table ----

async function refreshStatus() {
  try {
    const r = await fetch("/api/status?token=" + encodeURIComponent(token), { cache: "no-store" });
    if (r.ok) {
      const s = await r.json();
      const body = document.getElementById("status");
      body.innerHTML = "";
      for (const row of s.rows) {
        const tr = document.createElement("tr");
        for (const k of ["process", "pid", "state", "uptime", "entities", "clients", "tick_p99"]) {
          const td = document.createElement("td");
          td.textContent = row[k];
          tr.append(td);
        }
        body.append(tr);
      }
      document.getElementById("bots").textContent = s.bots + " bots logged in";
      stats.statusRows = s.rows.length;
    }
  } catch (e) {
    // The demo may be stopping; try again later.
  }
  setTimeout(refreshStatus, 1000);
}

connect();
refreshStatus();
requestAnimationFrame(draw);
