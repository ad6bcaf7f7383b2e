from deskhand.customers.domains import candidate_domains, is_free_mail, is_public_suffix, registrable_domain


def test_candidates_run_from_the_domain_to_its_registrable_parent_never_a_public_suffix() -> None:
    assert candidate_domains("eu.support.acme.co.uk") == ["eu.support.acme.co.uk", "support.acme.co.uk", "acme.co.uk"]
    assert candidate_domains("acme.com") == ["acme.com"]
    assert candidate_domains("co.uk") == []


def test_public_suffixes() -> None:
    assert is_public_suffix("com") and is_public_suffix("co.uk") and is_public_suffix("github.io")
    assert not is_public_suffix("acme.com")
    assert registrable_domain("mail.acme.com") == "acme.com"
    assert registrable_domain("co.uk") is None


def test_free_mail_and_disposable_providers_and_their_subdomains() -> None:
    for domain in ("gmail.com", "outlook.com", "yahoo.com", "mailinator.com", "eu.gmail.com"):
        assert is_free_mail(domain), domain
    assert not is_free_mail("acme.com")
    assert is_free_mail("acme.com", ["acme.com"])
    assert is_free_mail("mail.acme.com", ["acme.com"])
