"""Oas scan (QR login) jobs, seed 000 sections 4.11-4.17: engine jobs of kind `oas.scan`, a side table with
the scan's phase, screenshots and the user's pending choice, the user's endpoints and WebSocket, and the loop
that cancels scans whose user left."""
