"""The operator console: WebRTC receiver, pointer and keyboard-guide tools."""
