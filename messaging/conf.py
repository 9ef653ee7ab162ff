"""Messaging's settings (core.conf): rate limits, socket limits, edit and recall windows,
the worker's checks on Redis and on slow clients, the direct (P2P) transport and /metrics.
messaging.checks judges the values."""

from core.conf import Setting, boolean, integer, items, json_value, number

SETTINGS = [
    Setting("MESSAGE_RATE_BURST", integer, 30, "Messages a connection may send at once (and a user over REST)."),
    Setting("MESSAGE_RATE_PER_SECOND", number, 10.0, "Messages a second a connection may keep sending."),
    # Every frame, whatever its type, has a looser limit so that no client can flood a worker.
    Setting("FRAME_RATE_BURST", integer, 120, "Frames of any type a connection may send at once."),
    Setting("FRAME_RATE_PER_SECOND", number, 40.0, "Frames a second a connection may keep sending."),
    # Past these a handshake is answered with close code 4429; the address is the one
    # behind the proxy, with --proxy-headers.
    Setting("SOCKET_LIMIT_PER_USER", integer, 20, "Sockets one worker holds open for one user; 0: no limit."),
    Setting("SOCKET_LIMIT_PER_ADDRESS", integer, 1000, "Sockets one worker holds open for one address; 0: no limit."),
    Setting("MESSAGE_EDIT_WINDOW_SECONDS", integer, 15 * 60, "How long a sender may edit a message."),
    Setting("MESSAGE_RECALL_WINDOW_SECONDS", integer, 2 * 60, "How long a sender may recall a message."),
    # A restart of Redis loses a worker's state: at most this long a socket of it can miss
    # events before it is closed to resync.
    Setting("LAYER_CHECK_SECONDS", number, 2.0, "How often a worker checks that Redis still holds its state."),
    # It reconnects and catches up with sync (messaging.socket.backpressure).
    Setting("SLOW_CLIENT_MAX_BYTES", integer, 2**20, "A client that stopped reading is cut off past this many bytes."),
    # Two browsers that reach each other send messages and files over a WebRTC data
    # channel; when they cannot, the server relays. An office LAN needs no STUN or TURN
    # server, so ICE_SERVERS is empty unless set.
    Setting("P2P_ENABLED", boolean, True, "Let two browsers send messages and files directly."),
    Setting("P2P_CONNECT_TIMEOUT_MS", integer, 4000, "How long a browser tries the direct path before relaying."),
    Setting("ICE_SERVERS", json_value, [], "A JSON list of RTCIceServer dicts (STUN, TURN servers)."),
    # It only feeds /metrics (messaging.services.p2p_bytes_report).
    Setting("FILE_MAX_P2P_REPORT", integer, 4 * 2**30, "The most one report of directly sent bytes may claim."),
    # Membership checks grow with the group (each new member against every member), so
    # its size is bounded; an owner adds at most messaging.services.GROUP_ADD_PER_REQUEST at once.
    Setting("GROUP_MAX_MEMBERS", integer, 1000, "The most members a group may have."),
    Setting("METRICS_ALLOWED_ADDRESSES", items, ["127.0.0.1", "::1"], "Who may read /metrics, besides staff."),
]
