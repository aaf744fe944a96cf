/** The video path's pure parts: redaction, backoff, frame assembly, log parsing, command lines. */
import test from 'ava';
import { backoffDelay } from '../lib/video/backoff';
import { ffmpegArgs, gstreamerArgs, parseGstSinkCaps } from '../lib/video/decoder-args';
import { classifyFfmpegLine, parseShowinfoFrame } from '../lib/video/ffmpeg-log';
import { FrameAssembler, FramePool, frameBytes } from '../lib/video/frame-assembler';
import { LineSplitter } from '../lib/video/line-splitter';
import { makeRedactor, redactUrl } from '../lib/video/redact';
import { sourceKind } from '../lib/video/source-url';

test('credentials are removed from URLs and from any text that repeats the password', (t) => {
  t.is(redactUrl('rtsp://admin:s3cr3t@10.0.0.5:554/stream1'), 'rtsp://admin:***@10.0.0.5:554/stream1');
  t.is(redactUrl('see http://tok3n@host/x and rtsp://a:b@c/d'), 'see http://***@host/x and rtsp://a:***@c/d');
  t.is(redactUrl('/var/videos/a@b.mp4'), '/var/videos/a@b.mp4');
  const redact = makeRedactor('rtsp://admin:p%40ss%3Aword@cam/live');
  const line = "[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized rtsp://admin:p%40ss%3Aword@cam/live, password p@ss:word";
  const out = redact(line);
  t.false(out.includes('p%40ss%3Aword'));
  t.false(out.includes('p@ss:word'));
  t.true(out.includes('rtsp://admin:***@cam/live'));
});

test('backoff doubles per attempt up to the cap, with jitter inside ±25 %', (t) => {
  const options = { initialMs: 500, maxMs: 8000 };
  t.is(backoffDelay(1, options, () => 0.5), 500);
  t.is(backoffDelay(2, options, () => 0.5), 1000);
  t.is(backoffDelay(4, options, () => 0.5), 4000);
  t.is(backoffDelay(10, options, () => 0.5), 8000);
  t.is(backoffDelay(3, options, () => 0), 1500);
  t.is(backoffDelay(3, options, () => 1), 2500);
});

test('the frame assembler cuts frames of announced sizes out of arbitrary chunks, copying at most once', (t) => {
  const pool = new FramePool();
  const frames: Array<{ data: Buffer; width: number; pts: number; release: () => void }> = [];
  const assembler = new FrameAssembler(pool, (data, layout, release) => frames.push({ data: Buffer.from(data), width: layout.width, pts: layout.pts, release }));
  const a = frameBytes('nv12', 4, 2); // 12 bytes
  const b = frameBytes('nv12', 2, 2); // 6 bytes
  t.is(a, 12);
  t.is(b, 6);
  const stream = Buffer.from(Array.from({ length: a + a + b }, (_, i) => i));
  // Bytes come before the layouts that size them, and in chunks that straddle frames.
  assembler.push(stream.subarray(0, 5));
  assembler.push(stream.subarray(5, 20));
  t.is(frames.length, 0);
  assembler.pushLayout({ width: 4, height: 2, bytes: a, pts: 0 });
  t.is(frames.length, 1);
  assembler.pushLayout({ width: 4, height: 2, bytes: a, pts: 0.1 });
  assembler.pushLayout({ width: 2, height: 2, bytes: b, pts: 0.2 });
  t.is(frames.length, 1);
  assembler.push(stream.subarray(20));
  t.is(frames.length, 3);
  t.deepEqual(frames.map((f) => f.width), [4, 4, 2]);
  t.deepEqual(frames.map((f) => f.pts), [0, 0.1, 0.2]);
  t.deepEqual(Buffer.concat(frames.map((f) => f.data)), stream);
  t.is(assembler.pendingBytes, 0);
});

test('a frame inside one chunk is a view of it; a spanning frame reuses a released buffer', (t) => {
  const pool = new FramePool();
  const seen: Buffer[] = [];
  const releases: Array<() => void> = [];
  const assembler = new FrameAssembler(pool, (data, _layout, release) => {
    seen.push(data);
    releases.push(release);
  });
  assembler.setFixedLayout({ width: 4, height: 2, bytes: 12, pts: NaN });
  const chunk = Buffer.alloc(12, 7);
  assembler.push(chunk);
  t.is(seen[0].buffer, chunk.buffer);
  assembler.push(Buffer.alloc(6, 1));
  assembler.push(Buffer.alloc(6, 2));
  const copied = seen[1];
  t.not(copied.buffer, chunk.buffer);
  releases[1]();
  assembler.push(Buffer.alloc(6, 3));
  assembler.push(Buffer.alloc(6, 4));
  t.is(seen[2], copied, 'the released buffer came back from the pool');
  t.deepEqual([...seen[2]], [3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4]);
});

test("ffmpeg's showinfo lines give each frame's size and timestamp; failures are recognised", (t) => {
  const line = '[Parsed_showinfo_2 @ 0x55e400b8b4c0] n:   0 pts:4800024 pts_time:4.00002 pos:   324097 fmt:nv12 sar:1/1 s:320x240 i:P iskey:1 type:I ';
  t.deepEqual(parseShowinfoFrame(line), { width: 320, height: 240, pts: 4.00002 });
  t.is(parseShowinfoFrame('[Parsed_showinfo_2 @ 0x1] color_range:unknown color_space:unknown'), undefined);
  t.is(parseShowinfoFrame('[Parsed_showinfo_0 @ 0x1] n:   3 pts:NOPTS pts_time:NOPTS pos: -1 fmt:nv12 sar:1/1 s:64x48 i:P')?.pts, NaN);
  t.is(classifyFfmpegLine('[rtsp @ 0x5] method DESCRIBE failed: 401 Unauthorized'), 'auth');
  t.is(classifyFfmpegLine('http://x/y: Server returned 401 Unauthorized (authorization failed)'), 'auth');
  t.is(classifyFfmpegLine('/tmp/none.mp4: No such file or directory'), 'not-found');
  t.is(classifyFfmpegLine('[rtsp @ 0x5] method DESCRIBE failed: 404 Not Found'), 'not-found');
  t.is(classifyFfmpegLine('Connection to tcp://127.0.0.1:1 failed: Connection refused'), undefined);
});

test('lines split on \\n and \\r across chunks', (t) => {
  const lines: string[] = [];
  const splitter = new LineSplitter((l) => lines.push(l));
  splitter.push('one\ntw');
  splitter.push('o\rthree\r\nfo');
  splitter.end();
  t.deepEqual(lines, ['one', 'two', 'three', 'fo']);
});

test('source kinds and decoder command lines', (t) => {
  t.is(sourceKind('rtsp://cam/1'), 'rtsp');
  t.is(sourceKind('RTSPS://cam/1'), 'rtsp');
  t.is(sourceKind('https://x/live.m3u8'), 'http');
  t.is(sourceKind('/dev/video0'), 'v4l2');
  t.is(sourceKind('clip.mp4'), 'file');
  const args = ffmpegArgs('rtsp', { url: 'rtsp://cam/1', rtspTransport: 'udp' }, 'nv12', 'cuda', 4000);
  t.deepEqual(args.slice(args.indexOf('-hwaccel'), args.indexOf('-hwaccel') + 2), ['-hwaccel', 'cuda']);
  t.is(args[args.indexOf('-rtsp_transport') + 1], 'udp');
  t.is(args[args.indexOf('-timeout') + 1], '4000000');
  t.is(args[args.indexOf('-autoscale') + 1], '0');
  t.is(args[args.indexOf('-pix_fmt') + 1], 'nv12');
  t.true(args.indexOf('-hwaccel') < args.indexOf('-i'));
  t.is(ffmpegArgs('file', { url: 'a.mp4' }, 'bgr', 'none', 1000).includes('-hwaccel'), false);
  const gst = gstreamerArgs('rtsp', { url: 'rtsp://cam/1', gstDecoder: 'nvv4l2decoder' }, 'nv12');
  t.true(gst.includes('nvv4l2decoder'));
  t.true(gst.includes('nvvidconv'));
  t.is(gst[gst.length - 2], 'fd=3');
  t.deepEqual(
    parseGstSinkCaps('/GstPipeline:pipeline0/GstFdSink:fdsink0.GstPad:sink: caps = video/x-raw, format=(string)NV12, width=(int)640, height=(int)480, interlace-mode=(string)progressive, framerate=(fraction)15/1'),
    { width: 640, height: 480, fps: 15 },
  );
});
