"""testbed.netlab.plan_case: the commands that build each lab, checked without running them."""

from __future__ import annotations

import pytest

from testbed.netlab import CASES, LabCase, plan_case


def _joined(case: LabCase) -> list[str]:
    return [" ".join(c) for c in plan_case(case, "t1").setup]


@pytest.mark.parametrize("case", CASES)
def test_every_namespace_is_removed_and_names_fit(case: LabCase) -> None:
    plan = plan_case(case, "t123")
    assert plan.namespaces[0] == plan.public_ns == "t123-pub"
    assert {c[-1] for c in plan.teardown} == set(plan.namespaces)
    assert plan.customer.namespace in plan.namespaces
    assert plan.operator.namespace in plan.namespaces
    for command in plan.setup:
        if command[:3] == ("ip", "link", "add"):
            assert len(command[3]) <= 15
            assert len(command[command.index("name") + 1]) <= 15


def test_cone_and_symmetric_nat() -> None:
    cone = _joined("cone-nat")
    assert any(c.endswith("-j MASQUERADE") for c in cone)
    assert not any("--random-fully" in c for c in cone)
    symmetric = [c for c in _joined("symmetric-nat") if "MASQUERADE" in c]
    assert len(symmetric) == 2  # both parties behind their own symmetric NAT
    assert all(c.endswith("--random-fully") for c in symmetric)


def test_firewall_passes_only_tcp_443() -> None:
    rules = [c for c in _joined("tcp443-only") if "iptables" in c and "nat" not in c]
    assert rules == [
        "ip netns exec t1-cgw iptables -P FORWARD DROP",
        "ip netns exec t1-cgw iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        "ip netns exec t1-cgw iptables -A FORWARD -i t1cgwl -o t1cgwu -p tcp --dport 443 -j ACCEPT",
    ]


def test_behind_the_proxy_only_the_turn_server_passes_on_443() -> None:
    rules = [c for c in _joined("proxy") if "iptables" in c and "nat" not in c]
    assert rules == [
        "ip netns exec t1-cgw iptables -P FORWARD DROP",
        "ip netns exec t1-cgw iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
        "ip netns exec t1-cgw iptables -A FORWARD -i t1cgwl -o t1cgwu -d 203.0.113.3/32"
        " -p tcp --dport 443 -j ACCEPT",
    ]
    plan = plan_case("proxy", "t1")
    assert plan.customer.address.startswith("10.10.1.")
    assert plan.operator.address == "203.0.113.20"


def test_parties_per_case() -> None:
    lan = plan_case("lan", "t1")
    assert lan.customer.address.startswith("10.10.1.")
    assert lan.operator.address.startswith("10.10.1.")
    assert plan_case("cone-nat", "t1").operator.address == "203.0.113.20"
    assert plan_case("symmetric-nat", "t1").operator.address.startswith("10.10.2.")


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="unknown lab case"):
        plan_case("wan", "t1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="prefix"):
        plan_case("lan", "too-long-prefix")
