#!/usr/bin/python3
"""A small RTSP server for the video tests and benchmarks (GStreamer's gst-rtsp-server).

It serves pre-encoded H.264 elementary streams (Annex B, made by scripts/make-test-video.sh), so
no encoder competes with the decoders and the detector for the CPU. Each mount point loops its
file for as long as a client stays connected; every client gets its own pipeline that starts at
the beginning of the file, with timestamps that keep increasing across loops. It listens on 127.0.0.1 only.

Run it with /usr/bin/python3 (Debian's python3-gi; a virtual environment's python has no `gi`):

  /usr/bin/python3 scripts/rtsp-server.py --port 8554 --fps 15 \
      --mount cam0=/tmp/video/slideshow.h264 --mount cam1=/tmp/video/other.h264 \
      [--user admin --password secret]

It prints READY (and the port) on stdout once it listens, and stops on SIGTERM or SIGINT.
"""
import argparse
import signal
import sys

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--port', type=int, required=True, help='TCP port to listen on (127.0.0.1)')
    parser.add_argument('--mount', action='append', required=True, metavar='NAME=FILE',
                        help='serve FILE (H.264 Annex B) at rtsp://127.0.0.1:PORT/NAME; repeatable')
    parser.add_argument('--fps', type=int, default=15, help='frame rate the files were encoded at (default 15)')
    parser.add_argument('--user', help='require basic authentication with this user name')
    parser.add_argument('--password', help='... and this password')
    return parser.parse_args()


def read_access_units(path):
    """Split an Annex B file made with x264's aud=1 into access units (one per frame)."""
    with open(path, 'rb') as f:
        data = f.read()
    delimiter = b'\x00\x00\x00\x01\x09'
    starts = []
    at = data.find(delimiter)
    while at >= 0:
        starts.append(at)
        at = data.find(delimiter, at + len(delimiter))
    if not starts:
        sys.exit(f'{path}: no access unit delimiters (encode with -x264-params aud=1)')
    starts.append(len(data))
    return [data[a:b] for a, b in zip(starts, starts[1:])]


class LoopingFactory(GstRtspServer.RTSPMediaFactory):
    """One pipeline per client: an appsrc that sends the file's frames in a loop.

    The frames get monotonic timestamps (frame number / fps) here, so the payloader's RTP
    timestamps keep increasing across loops and the RTSP server's sinks pace them in real time.
    """

    def __init__(self, frames, fps):
        super().__init__()
        self.frames = frames
        self.duration = Gst.SECOND // fps
        caps = f'video/x-h264,stream-format=byte-stream,alignment=au,framerate={fps}/1'
        self.set_launch(f'( appsrc name=src is-live=true format=time caps="{caps}" ! h264parse ! '
                        f'rtph264pay name=pay0 pt=96 config-interval=1 )')
        self.set_shared(False)
        self.connect('media-configure', self.on_media_configure)

    def on_media_configure(self, _factory, media):
        src = media.get_element().get_by_name('src')
        state = {'n': 0}
        src.connect('need-data', self.on_need_data, state)

    def on_need_data(self, src, _length, state):
        n = state['n']
        buffer = Gst.Buffer.new_wrapped(self.frames[n % len(self.frames)])
        buffer.pts = buffer.dts = n * self.duration
        buffer.duration = self.duration
        state['n'] = n + 1
        src.emit('push-buffer', buffer)


def main():
    args = parse_args()
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address('127.0.0.1')
    server.set_service(str(args.port))
    mounts = server.get_mount_points()

    if args.user is not None:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, 'viewer')
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ''), token)
        server.set_auth(auth)

    for spec in args.mount:
        name, sep, path = spec.partition('=')
        if not sep or not name or not path:
            sys.exit(f'--mount expects NAME=FILE, got {spec}')
        factory = LoopingFactory(read_access_units(path), args.fps)
        if args.user is not None:
            permissions = GstRtspServer.RTSPPermissions()
            permissions.add_role('viewer')
            permissions.add_permission_for_role('viewer', 'media.factory.access', True)
            permissions.add_permission_for_role('viewer', 'media.factory.construct', True)
            factory.set_permissions(permissions)
        mounts.add_factory(f'/{name}', factory)

    if server.attach(None) == 0:
        sys.exit(f'cannot listen on 127.0.0.1:{args.port}')
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f'READY {args.port}', flush=True)
    loop.run()


if __name__ == '__main__':
    main()
