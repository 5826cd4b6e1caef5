"""The signaling relay: pairs agents and operators by code; never touches media."""
