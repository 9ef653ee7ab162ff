"""Prometheus metrics of this worker process, served at /metrics."""

from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge("switchboard_connections", "Open WebSocket connections on this worker.")
MESSAGES_STORED = Counter("switchboard_messages_stored_total", "Messages stored, by app.", ["app"])
RELAY_BYTES = Counter(
    "switchboard_relay_bytes_total", "Bytes the server carried between clients: message frames and files."
)
# What went around the server is known only from the clients' own reports.
P2P_BYTES = Counter(
    "switchboard_p2p_bytes_total", "Bytes clients report they sent directly to each other, by kind.", ["kind"]
)
FRAMES_SENT = Counter("switchboard_frames_sent_total", "Frames sent to clients, by type.", ["type"])
ERRORS = Counter("switchboard_errors_total", "Errors answered to clients, by code.", ["code"])
REFUSED = Counter(
    "switchboard_connections_refused_total",
    "Sockets refused after authentication, by reason (scope, user_limit, address_limit).",
    ["reason"],
)
DELIVERY_LATENCY = Histogram(
    "switchboard_delivery_latency_seconds",
    "From commit to the frame leaving the worker for each receiving connection.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DROPPED = Counter("switchboard_dropped_events_total", "Ephemeral events dropped under pressure, by kind.", ["kind"])
LAYER_PUBLISHES = Counter(
    "switchboard_layer_publishes_total",
    "Events this process put on the channel layer: one each, whatever the number of recipients.",
)
LAYER_LATE = Counter(
    "switchboard_layer_late_events_total",
    "Events this worker's listener received after a later event of the same publisher (not lost).",
)
LAYER_RESETS = Counter(
    "switchboard_layer_resets_total",
    "Times this worker lost the channel layer (Redis restarted or unreachable) and closed its sockets.",
)
SEND_BATCH = Histogram(
    "switchboard_send_batch_size",
    "Socket sends stored together with one commit (messaging.send.queue).",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
