//! Signals: asyncio's `loop.add_signal_handler` and Ctrl+C.
