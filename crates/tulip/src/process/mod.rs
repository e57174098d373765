//! Subprocesses: asyncio's `create_subprocess_exec` / `create_subprocess_shell`.
