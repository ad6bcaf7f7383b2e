import pytest

from deskhand.core.emailaddr import AddressError, display_domain, normalize_domain, parse_email


@pytest.mark.parametrize(
    ("raw", "address", "key"),
    [
        ("  Jim@ACME.com ", "Jim@acme.com", "jim@acme.com"),
        ("ana@Bücher.de", "ana@xn--bcher-kva.de", "ana@xn--bcher-kva.de"),
        ("ana@xn--bcher-kva.de", "ana@xn--bcher-kva.de", "ana@xn--bcher-kva.de"),
        ("first.last+tag@sub.example.org", "first.last+tag@sub.example.org", "first.last+tag@sub.example.org"),
        ("support@deskhand.test", "support@deskhand.test", "support@deskhand.test"),
    ],
)
def test_addresses_are_trimmed_and_their_domain_normalised(raw: str, address: str, key: str) -> None:
    parsed = parse_email(raw)
    assert parsed.address == address
    assert parsed.key == key


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "plainaddress", "a@b", "a..b@x.com", "a@x..com", "two@@x.com", "sp ace@x.com",
     "a@-x.com", "x" * 65 + "@acme.com", "a@" + "x" * 250 + ".com", "a@localhost", "<a@x.com>"],
)
def test_malformed_or_overlong_addresses_are_refused(raw: str) -> None:
    with pytest.raises(AddressError):
        parse_email(raw)


@pytest.mark.parametrize(
    ("raw", "domain"),
    [("@ACME.com", "acme.com"), ("acme.com ", "acme.com"), ("ACME.COM.", "acme.com"), ("bücher.de", "xn--bcher-kva.de"),
     ("XN--BCHER-KVA.DE", "xn--bcher-kva.de"), ("jim@acme.com", "acme.com")],
)
def test_domains_are_stored_in_one_form_whatever_was_typed(raw: str, domain: str) -> None:
    assert normalize_domain(raw) == domain


@pytest.mark.parametrize("raw", ["", "com", "a..b", "-acme.com", "acme_corp.com", "1.2.3.4", "a b.com", "x" * 300])
def test_bad_domains_are_refused(raw: str) -> None:
    with pytest.raises(AddressError):
        normalize_domain(raw)


def test_an_overlong_domain_is_refused_for_its_length() -> None:
    for raw in ("x" * 300, "abc." * 75 + "com"):
        with pytest.raises(AddressError, match="^A domain has at most 253 characters.$"):
            normalize_domain(raw)


def test_idna_domains_read_back_in_unicode() -> None:
    assert display_domain("xn--bcher-kva.de") == "bücher.de"
    assert display_domain("acme.com") == "acme.com"
