// Plays a reelsmith MP4 in Debian's Chromium, as a web page would, and checks what a viewer
// gets: metadata, playback that advances, decoded audio, and the picture's colours.
//
// Usage: node tests/browser/play.mjs VIDEO.mp4 EXPECT.json
// EXPECT: {"width":1280,"height":720,"duration":5,"at":2.5,"pixels":[[x,y,[r,g,b]],...],"tolerance":16}
// The video is served from 127.0.0.1 with HTTP range support (what <video> uses).
import { chromium } from 'playwright-core';
import http from 'node:http';
import fs from 'node:fs';

const [video, expectPath] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(expectPath, 'utf8'));
const size = fs.statSync(video).size;

const page = `<!doctype html><html><body style="margin:0;background:#000">
<video id="v" muted playsinline preload="auto" src="/video.mp4"></video></body></html>`;

const server = http.createServer((req, res) => {
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end(page);
  }
  if (req.url !== '/video.mp4') {
    res.writeHead(404);
    return res.end();
  }
  const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range || '');
  const start = m ? Number(m[1]) : 0;
  const end = m && m[2] ? Number(m[2]) : size - 1;
  res.writeHead(m ? 206 : 200, {
    'content-type': 'video/mp4',
    'accept-ranges': 'bytes',
    'content-length': end - start + 1,
    ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
  });
  fs.createReadStream(video, { start, end }).pipe(res);
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
let passed = 0;
let failed = 0;
const check = (name, ok, detail) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`);
};
try {
  const tab = await browser.newPage();
  await tab.goto(url);
  const r = await tab.evaluate(async ({ at, pixels }) => {
    const v = document.getElementById('v');
    const wait = (ev) => new Promise((ok, no) => {
      v.addEventListener(ev, ok, { once: true });
      v.addEventListener('error', () => no(new Error(`media error ${v.error && v.error.code}`)), { once: true });
    });
    const out = {};
    if (v.readyState < 1) await wait('loadedmetadata');
    out.duration = v.duration;
    out.width = v.videoWidth;
    out.height = v.videoHeight;
    out.canPlayH264 = v.canPlayType('video/mp4; codecs="avc1.640028, mp4a.40.2"');
    const t0 = performance.now();
    await v.play();
    await new Promise((ok) => {
      const tick = () => (v.currentTime >= at || performance.now() - t0 > 15000 ? ok() : setTimeout(tick, 20));
      tick();
    });
    v.pause();
    out.reached = v.currentTime;
    out.wallSeconds = (performance.now() - t0) / 1000;
    out.audioBytes = v.webkitAudioDecodedByteCount;
    out.videoBytes = v.webkitVideoDecodedByteCount;
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    out.pixels = pixels.map(([x, y]) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3)));
    return out;
  }, { at: expect.at, pixels: expect.pixels });

  check('H.264 High + AAC-LC is playable', r.canPlayH264 === 'probably', r.canPlayH264);
  check('size', r.width === expect.width && r.height === expect.height, [r.width, r.height]);
  check('duration', Math.abs(r.duration - expect.duration) < 0.05, r.duration);
  check('playback advances', r.reached >= expect.at, { reached: r.reached, wall_s: r.wallSeconds });
  check('audio decoded', r.audioBytes > 0, r.audioBytes);
  check('video decoded', r.videoBytes > 0, r.videoBytes);
  expect.pixels.forEach(([x, y, want], i) => {
    const got = r.pixels[i];
    const ok = got.every((c, k) => Math.abs(c - want[k]) <= (expect.tolerance ?? 16));
    check(`pixel (${x},${y}) at ${expect.at}s`, ok, { got, want });
  });
} catch (e) {
  check('playback', false, String(e));
} finally {
  await browser.close();
  server.close();
}
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
