"""The client runtime the agent and the operator console share.

Signaling socket, WebRTC plumbing and aiortc extensions, the loop thread that keeps
asyncio beside Qt, the effects both client state machines return, the language
switch and the version. It imports nothing of ours but ``protocol``.
"""

__version__ = "0.1.0"
