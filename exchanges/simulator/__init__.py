"""A Bybit-V5-compatible exchange simulator (REST + WebSocket on one port).

Standalone: it imports nothing from Django or from the rest of Setka (import-linter contract).
Entry points: `testing.running_simulator` (tests), `control.SimulatorControl` (control API client),
`server.serve` (long-running process, wrapped by `manage.py run_simulator`).
"""
