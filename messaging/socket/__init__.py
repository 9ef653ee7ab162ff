"""The socket leg: the /ws/ endpoint of protocol v1 (docs/protocol.md).

    auth.py          who is on the other end (Origin for a browser's cookie, Bearer scopes)
    consumer.py      frames in: parse, check limits, call one service; events out
    ratelimit.py     token buckets per connection (and per user over REST)
    replay.py        sync replays in turns, so that history never starves live traffic
    backpressure.py  a client that stops reading is cut off
"""
