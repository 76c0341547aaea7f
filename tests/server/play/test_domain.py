"""Pay-as-you-go rules and ticket codes, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gameops.server.play import domain

T0 = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)


def test_a_full_block_when_the_balance_covers_it() -> None:
    assert domain.next_block(1000, 600, 900) == domain.Block(900, 150)  # 15 min at 6.00/h


def test_a_short_block_is_what_the_balance_buys_and_never_more() -> None:
    block = domain.next_block(100, 600, 900)  # 1.00 buys 10 minutes at 6.00/h
    assert block == domain.Block(600, 100)
    odd = domain.next_block(7, 600, 900)  # 7 units buy 42 s
    assert odd is not None and odd.seconds == 42 and odd.charge <= 7


def test_no_block_when_the_balance_buys_nothing() -> None:
    assert domain.next_block(0, 600, 900) is None
    assert domain.next_block(1000, 0, 900) == domain.Block(900, 0)  # a free rate


def test_the_refund_is_the_unused_share_rounded_down() -> None:
    ends = T0 + timedelta(minutes=15)
    assert domain.unused_refund(150, T0, ends, T0 + timedelta(minutes=5)) == 100
    assert domain.unused_refund(150, T0, ends, T0 + timedelta(seconds=1)) == 149
    assert domain.unused_refund(150, T0, ends, ends) == 0
    assert domain.unused_refund(150, T0, ends, T0 - timedelta(minutes=1)) == 150
    assert domain.unused_seconds(T0, ends, T0 + timedelta(seconds=100.5)) == 799


def test_renewal_is_due_in_the_lead_before_the_block_end_only() -> None:
    ends = T0 + timedelta(minutes=15)
    assert not domain.renewal_due(ends, ends - timedelta(seconds=31), 30)
    assert domain.renewal_due(ends, ends - timedelta(seconds=30), 30)
    assert not domain.renewal_due(ends, ends, 30)  # over: the expiry takes it


def test_minimum_balance_is_the_venue_setting_or_one_block() -> None:
    assert domain.minimum_balance(200, 600, 900) == 200
    assert domain.minimum_balance(0, 600, 900) == 150
    assert domain.minimum_balance(0, 0, 900) == 1


def test_refusals_read_as_the_issue_says() -> None:
    assert domain.balance_too_low(120, 200, "USD") == "Balance too low: $1.20; the minimum is $2.00"
    assert domain.money(123456, "CHF") == "1,234.56 CHF"
    assert domain.already_logged_in("PC-07") == "Already logged in at PC-07"


def test_ticket_codes_are_random_grouped_and_hashed_with_the_secret() -> None:
    codes = {domain.new_ticket_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert len(code) == 14 and code.count("-") == 2  # 12 characters = 60 bits
    typed = code.lower().replace("-", " ")
    assert domain.code_hash(typed, "s1") == domain.code_hash(code, "s1")
    assert domain.code_hash(code, "s1") != domain.code_hash(code, "s2")
    assert code.replace("-", "") not in domain.code_hash(code, "s1")
    assert domain.normalise_code("ab0-1") == "ABOI"
