#!/usr/bin/python3
"""Run a GStreamer pipeline as `gst-launch-1.0 -v` would, reading it from the environment.

int8-detect's GStreamer decoder uses this for sources whose URL carries credentials (a password,
a token in the query): a command line is visible to every local user (ps, /proc/PID/cmdline),
while a process's environment is readable only by its own user. The pipeline description comes
from INT8_DETECT_GST_PIPELINE; the element named `src` (an rtspsrc) gets its user-id and user-pw
properties from INT8_DETECT_GST_USER_ID and INT8_DETECT_GST_USER_PW.

It prints what lib/video reads from gst-launch-1.0 -v: the caps of the fdsink's sink pad on
stdout, and errors as "ERROR: from element PATH: MESSAGE" plus the debug text on stderr; it
exits 0 at end of stream and 1 on an error. Needs PyGObject with GStreamer's introspection data
(Debian/Ubuntu: python3-gi gir1.2-gstreamer-1.0).
"""
import os
import sys

import gi

gi.require_version('Gst', '1.0')
from gi.repository import GLib, Gst  # noqa: E402


def main():
    Gst.init(None)
    description = os.environ.get('INT8_DETECT_GST_PIPELINE')
    if not description:
        sys.stderr.write('ERROR: INT8_DETECT_GST_PIPELINE is not set\n')
        return 2
    try:
        pipeline = Gst.parse_launch(description)
    except GLib.Error as err:
        sys.stderr.write(f'ERROR: pipeline could not be constructed: {err.message}\n')
        return 1
    source = pipeline.get_by_name('src')
    if source is not None:
        for variable, prop in (('INT8_DETECT_GST_USER_ID', 'user-id'), ('INT8_DETECT_GST_USER_PW', 'user-pw')):
            value = os.environ.get(variable)
            if value:
                source.set_property(prop, value)

    sink = pipeline.get_by_name('sink')
    if sink is not None:
        pad = sink.get_static_pad('sink')

        def on_caps(pad, _param):
            caps = pad.get_current_caps()
            if caps is not None:
                sys.stdout.write(f'{pad.get_path_string()}: caps = {caps.to_string()}\n')
                sys.stdout.flush()

        pad.connect('notify::caps', on_caps)

    loop = GLib.MainLoop()
    status = {'code': 0}

    def on_message(_bus, message):
        if message.type == Gst.MessageType.PROGRESS:
            # As gst-launch-1.0 prints them: what the source is doing (connecting, retrieving media info).
            _kind, code, text = message.parse_progress()
            sys.stdout.write(f'Progress: ({code}) {text}\n')
            sys.stdout.flush()
        elif message.type == Gst.MessageType.EOS:
            loop.quit()
        elif message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            sys.stderr.write(f'ERROR: from element {message.src.get_path_string()}: {err.message}\n')
            if debug:
                sys.stderr.write(f'Additional debug info:\n{debug}\n')
            sys.stderr.flush()
            status['code'] = 1
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect('message', on_message)
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        status['code'] = 1
        # The error itself arrives on the bus; let the loop print it.
        GLib.timeout_add(2000, loop.quit)
    try:
        loop.run()
    except KeyboardInterrupt:
        status['code'] = 130
    pipeline.set_state(Gst.State.NULL)
    return status['code']


if __name__ == '__main__':
    sys.exit(main())
