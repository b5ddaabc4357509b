"""An RTSP server for the camera tests: GStreamer's RTSP server (Debian's
``gir1.2-gst-rtsp-server-1.0`` with ``python3-gi``) serving one H.264 MP4 file at its
own pace, as a camera would, on 127.0.0.1; each client gets the file from its start.

Run by the system's Python 3, which has ``gi`` (the project's environment need not)::

    /usr/bin/python3 tests/cameras/rtsp_server.py PORT /lobby clip.mp4 [USER PASSWORD]

With ``--probe`` it only says whether it can run: it exits 0, or 3 with the reason on
standard error. It prints ``ready`` on standard output once it listens, and serves
until it is terminated.
"""

from __future__ import annotations

import sys


def _say(text: str, *, error: bool = False) -> None:
    stream = sys.stderr if error else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _load() -> tuple[object, object]:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    missing = [e for e in ("filesrc", "qtdemux", "h264parse", "rtph264pay")
               if Gst.ElementFactory.find(e) is None]
    if missing:
        raise ImportError("GStreamer elements missing: " + ", ".join(missing))
    return GLib, GstRtspServer


def main(argv: list[str]) -> int:
    try:
        GLib, GstRtspServer = _load()
    except (ImportError, ValueError) as exc:
        _say(f"no GStreamer RTSP server: {exc}", error=True)
        return 3
    if argv[:1] == ["--probe"]:
        return 0
    port, mount, clip = argv[0], argv[1], argv[2]
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    # a new pipeline per client, from the file's start; the file's timestamps pace it
    factory.set_launch(f'( filesrc location="{clip}" ! qtdemux ! h264parse config-interval=-1 '
                       "! rtph264pay name=pay0 pt=96 config-interval=-1 )")
    factory.set_shared(False)
    if len(argv) >= 5:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(argv[3], argv[4]), token)
        server.set_auth(auth)
        permissions = GstRtspServer.RTSPPermissions()
        permissions.add_role("viewer")
        permissions.add_permission_for_role("viewer", "media.factory.access", True)
        permissions.add_permission_for_role("viewer", "media.factory.construct", True)
        factory.set_permissions(permissions)
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        _say(f"cannot listen on 127.0.0.1:{port}", error=True)
        return 2
    _say("ready")
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
