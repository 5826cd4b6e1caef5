"""An emulated network link for the test bed: rate, buffer, delay, loss and outages.

The kernel here has no ``netem`` qdisc, so the link is built from what it has:

* rate and bottleneck buffer: a TBF qdisc on an ``ifb`` device fed from the
  loopback's ingress (:mod:`testbed.linkemu.namespace`);
* delay, loss and outages: a small userspace emulator on NFQUEUE that holds each
  packet and issues its verdict later, or drops it (:mod:`testbed.linkemu.core`
  decides, :mod:`testbed.linkemu.nfqueue` talks raw netlink).

Everything lives in a network namespace that the caller creates and removes, so the
host's network is never touched. Profiles are data (:mod:`testbed.linkemu.profiles`).
Method and limits: ``docs/performance.md``, "Real networks".
"""
