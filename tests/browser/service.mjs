// The service's web page in Debian's Chromium, as a person would use it: start
// `reelsmith serve` on a free loopback port, open `/`, pick an example, submit it, watch it
// reach `done` (live, over Server-Sent Events), and check that the page's <video> loads the
// result's metadata with the right size and duration and plays (HTTP ranges from the service),
// and that the contact sheet of its thumbnails loads under it.
//
// Usage: node tests/browser/service.mjs [path/to/reelsmith]   (default target/debug/reelsmith)
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const bin = process.argv[2] || 'target/debug/reelsmith';
const media = fs.mkdtempSync(path.join(os.tmpdir(), 'reelsmith-service-browser-'));

const server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--media', media, '--workers', '2'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const base = await new Promise((ok, no) => {
  const rl = readline.createInterface({ input: server.stdout });
  rl.once('line', (line) => {
    const m = /listening on (http:\/\/\S+)/.exec(line);
    m ? ok(m[1]) : no(new Error(`unexpected first line: ${line}`));
  });
  server.once('exit', (code) => no(new Error(`reelsmith serve exited with ${code}`)));
  setTimeout(() => no(new Error('reelsmith serve did not start in 30 s')), 30000);
});

let passed = 0;
let failed = 0;
const check = (name, ok, detail) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail === undefined ? '' : ': ' + JSON.stringify(detail)}`);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
try {
  const tab = await browser.newPage();
  const states = [];
  tab.on('console', (m) => { if (m.type() === 'error') console.log('page error:', m.text()); });
  await tab.goto(base + '/');
  await tab.waitForSelector('#examples option[value="title-card"]', { state: 'attached' });
  await tab.selectOption('#examples', 'title-card');
  const spec = JSON.parse(await tab.inputValue('#spec'));
  const want = spec.scenes.reduce((s, sc) => s + sc.duration, 0);
  check('example loaded into the editor', spec.output.width === 640, spec.output);

  // The page follows the render with EventSource: record the states it shows.
  await tab.exposeFunction('sawState', (s) => states.push(s));
  await tab.evaluate(() => {
    new MutationObserver(() => {
      const el = document.querySelector('.render .state');
      if (el) window.sawState(el.textContent);
    }).observe(document.getElementById('renders'), { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await tab.click('#submit');
  const row = tab.locator('.render').first();
  await row.waitFor();
  const id = await row.getAttribute('data-id');
  check('submitted', /^r_[0-9a-f]{16}$/.test(id || ''), id);
  await tab.waitForSelector(`.render[data-id="${id}"][data-state="done"]`, { timeout: 120000 });
  check('reached done on the page', true, [...new Set(states)]);

  const r = await tab.evaluate(async (id) => {
    const v = document.querySelector(`.render[data-id="${id}"] video`);
    if (!v) return { error: 'no <video>' };
    if (v.readyState < 1) {
      await new Promise((ok, no) => {
        v.addEventListener('loadedmetadata', ok, { once: true });
        v.addEventListener('error', () => no(new Error(`media error ${v.error && v.error.code}`)), { once: true });
        setTimeout(() => no(new Error('no metadata in 30 s')), 30000);
      });
    }
    const out = { duration: v.duration, width: v.videoWidth, height: v.videoHeight };
    v.muted = true;
    await v.play();
    const t0 = performance.now();
    await new Promise((ok) => {
      const tick = () => (v.currentTime >= 1 || performance.now() - t0 > 15000 ? ok() : setTimeout(tick, 20));
      tick();
    });
    v.pause();
    out.reached = v.currentTime;
    v.currentTime = 2.5; // a seek: served as a byte range
    await new Promise((ok) => v.addEventListener('seeked', ok, { once: true }));
    out.seeked = v.currentTime;
    // The narration's captions, from the WebVTT the service serves beside the video.
    const track = v.textTracks[0];
    if (track) {
      track.mode = 'showing';
      const t1 = performance.now();
      while (!(track.cues && track.cues.length) && performance.now() - t1 < 10000) {
        await new Promise((ok) => setTimeout(ok, 50));
      }
      out.cues = [...(track.cues || [])].map((c) => [c.startTime, c.endTime, c.text]);
    }
    out.download = document.querySelector(`.render[data-id="${id}"] a.download`)?.getAttribute('href');
    // The contact sheet under the player (the example asks for thumbnails).
    const sheet = document.querySelector(`.render[data-id="${id}"] img.sheet`);
    if (sheet) {
      if (!sheet.complete) await new Promise((ok) => { sheet.onload = ok; sheet.onerror = ok; });
      out.sheet = { src: sheet.getAttribute('src'), width: sheet.naturalWidth, height: sheet.naturalHeight };
    }
    return out;
  }, id);
  check('video metadata: size', r.width === 640 && r.height === 360, r);
  check('video metadata: duration', Math.abs(r.duration - want) < 0.05, { duration: r.duration, want });
  check('playback advances', r.reached >= 1, r.reached);
  check('seek', Math.abs(r.seeked - 2.5) < 0.1, r.seeked);
  check('captions track', Array.isArray(r.cues) && r.cues.length === 1 &&
    r.cues[0][2] === 'Made by reelsmith.' && r.cues[0][0] === 0 && r.cues[0][1] > 0.5, r.cues);
  check('download link', r.download === `/v1/renders/${id}/video?download=1`, r.download);
  // Two 240 px pictures a row with 10 px gaps: 2 * (240 + 10) + 10.
  check('contact sheet shown', r.sheet && r.sheet.src === `/v1/renders/${id}/sheet` &&
    r.sheet.width === 510 && r.sheet.height > 0, r.sheet);
  if (process.env.SCREENSHOT) await tab.screenshot({ path: process.env.SCREENSHOT, fullPage: true });

  // Delete from the page: the row goes, and so does the render.
  await tab.click(`.render[data-id="${id}"] button.del`);
  await tab.waitForSelector(`.render[data-id="${id}"]`, { state: 'detached' });
  const gone = await fetch(`${base}/v1/renders/${id}`);
  check('deleted', gone.status === 404, gone.status);
  const left = fs.readdirSync(path.join(media, 'videos'));
  check('no files left', left.length === 0, left);

  // A template: the page shows a field per variable (its default as the placeholder) and
  // submits {"template", "variables"} with what was typed.
  const posted = [];
  tab.on('request', (q) => {
    if (q.method() === 'POST' && q.url().endsWith('/v1/renders')) posted.push(q.postData());
  });
  await tab.selectOption('#examples', 'welcome-template');
  const fields = await tab.locator('#vars input').evaluateAll(
    (els) => els.map((e) => [e.name, e.placeholder]).sort());
  check('template form', JSON.stringify(fields) === JSON.stringify([['accent', '#F2A900'], ['site', 'Leeds']]), fields);
  await tab.fill('#vars input[name="site"]', 'Tromsø');
  await tab.click('#submit');
  const trow = tab.locator('.render').first();
  await tab.waitForFunction(() => document.querySelector('.render')?.dataset.state === 'done', null, { timeout: 120000 });
  const tid = await trow.getAttribute('data-id');
  const sent = JSON.parse(posted[0] || '{}');
  check('template submitted with its values', sent.variables?.site === 'Tromsø' &&
    sent.template?.variables?.site?.default === 'Leeds' && !('accent' in (sent.variables || {})), sent.variables);
  if (process.env.REELSMITH_SCREENSHOT) await tab.screenshot({ path: process.env.REELSMITH_SCREENSHOT, fullPage: true });
  const tdone = await (await fetch(`${base}/v1/renders/${tid}`)).json();
  check('template rendered', tdone.state === 'done' && tdone.video?.width === 640, tdone);
} catch (e) {
  check('service page', false, String(e));
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await new Promise((ok) => server.once('exit', ok));
  fs.rmSync(media, { recursive: true, force: true });
}
console.log(`browser-service: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
