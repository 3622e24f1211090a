"""ATS detection from a URL (pure): every kind from at least three URL shapes, embedded boards, bad URLs."""

from __future__ import annotations

import pytest

from core.sources import source_class
from core.sources.detect import DetectError, detect, detect_url, find_embedded

CASES = [
    # greenhouse
    ("https://boards.greenhouse.io/acme", "greenhouse", {"board": "acme"}),
    ("https://boards.greenhouse.io/acme/jobs/4012345", "greenhouse", {"board": "acme"}),
    ("https://job-boards.greenhouse.io/acme", "greenhouse", {"board": "acme"}),
    ("https://job-boards.greenhouse.io/acme/jobs/4012345?gh_src=abc", "greenhouse", {"board": "acme"}),
    ("https://boards.greenhouse.io/embed/job_board?for=acme", "greenhouse", {"board": "acme"}),
    ("https://boards.greenhouse.io/embed/job_board/js?for=acme", "greenhouse", {"board": "acme"}),
    ("https://boards.greenhouse.io/embed/job_app?for=acme&token=4012345", "greenhouse", {"board": "acme"}),
    ("https://boards-api.greenhouse.io/v1/boards/acme/jobs?content=true", "greenhouse", {"board": "acme"}),
    ("HTTPS://Boards.Greenhouse.IO/acme/", "greenhouse", {"board": "acme"}),
    # lever
    ("https://jobs.lever.co/acme", "lever", {"site": "acme"}),
    ("https://jobs.lever.co/acme/5f1c2d3e-aaaa-bbbb-cccc-1234567890ab", "lever", {"site": "acme"}),
    ("https://jobs.lever.co/acme/5f1c2d3e-aaaa-bbbb-cccc-1234567890ab/apply", "lever", {"site": "acme"}),
    ("https://jobs.eu.lever.co/acme", "lever", {"site": "acme", "region": "eu"}),
    ("https://jobs.eu.lever.co/acme/5f1c2d3e/apply", "lever", {"site": "acme", "region": "eu"}),
    ("https://api.lever.co/v0/postings/acme?mode=json", "lever", {"site": "acme"}),
    ("https://api.eu.lever.co/v0/postings/acme", "lever", {"site": "acme", "region": "eu"}),
    # ashby
    ("https://jobs.ashbyhq.com/acme", "ashby", {"board": "acme"}),
    ("https://jobs.ashbyhq.com/acme/0c2b7a1e-1111-2222-3333-444455556666", "ashby", {"board": "acme"}),
    ("https://jobs.ashbyhq.com/acme/0c2b7a1e-1111-2222-3333-444455556666/application", "ashby", {"board": "acme"}),
    ("https://jobs.ashbyhq.com/acme/embed?version=2", "ashby", {"board": "acme"}),
    ("https://api.ashbyhq.com/posting-api/job-board/acme?includeCompensation=true", "ashby", {"board": "acme"}),
    ("https://jobs.ashbyhq.com/Acme%20Labs", "ashby", {"board": "Acme Labs"}),
    # workable
    ("https://apply.workable.com/acme", "workable", {"account": "acme"}),
    ("https://apply.workable.com/acme/", "workable", {"account": "acme"}),
    ("https://apply.workable.com/acme/j/4F3A2B1C0D/", "workable", {"account": "acme"}),
    ("https://apply.workable.com/api/v1/widget/accounts/acme?details=true", "workable", {"account": "acme"}),
    ("https://acme.workable.com/jobs/123456", "workable", {"account": "acme"}),
    # smartrecruiters
    ("https://jobs.smartrecruiters.com/Acme", "smartrecruiters", {"company": "Acme"}),
    ("https://jobs.smartrecruiters.com/Acme/743999912345678-software-engineer", "smartrecruiters", {"company": "Acme"}),
    ("https://careers.smartrecruiters.com/Acme", "smartrecruiters", {"company": "Acme"}),
    (
        "https://jobs.smartrecruiters.com/oneclick-ui/company/Acme/publication/0b1c2d3e-aaaa",
        "smartrecruiters",
        {"company": "Acme"},
    ),
    ("https://api.smartrecruiters.com/v1/companies/Acme/postings", "smartrecruiters", {"company": "Acme"}),
    # recruitee
    ("https://acme.recruitee.com", "recruitee", {"company": "acme"}),
    ("https://acme.recruitee.com/", "recruitee", {"company": "acme"}),
    ("https://acme.recruitee.com/o/software-engineer", "recruitee", {"company": "acme"}),
    ("https://acme.recruitee.com/api/offers/", "recruitee", {"company": "acme"}),
    # workday
    ("https://acme.wd5.myworkdayjobs.com/en-US/External", "workday", {"host": "wd5", "tenant": "acme", "site": "External"}),
    ("https://acme.wd5.myworkdayjobs.com/External", "workday", {"host": "wd5", "tenant": "acme", "site": "External"}),
    (
        "https://acme.wd5.myworkdayjobs.com/en-US/External/job/Remote-USA/Data-Engineer_R12345",
        "workday",
        {"host": "wd5", "tenant": "acme", "site": "External"},
    ),
    (
        "https://acme.wd1.myworkdayjobs.com/External/details/Engineer_R1?q=x",
        "workday",
        {"host": "wd1", "tenant": "acme", "site": "External"},
    ),
    (
        "https://acme.wd3.myworkdayjobs.com/wday/cxs/acme/Careers/jobs",
        "workday",
        {"host": "wd3", "tenant": "acme", "site": "Careers"},
    ),
    (
        "https://wd3.myworkdaysite.com/en-US/recruiting/acme/Careers/job/Berlin/Engineer_R9",
        "workday",
        {"host": "wd3", "tenant": "acme", "site": "Careers"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("url", "kind", "options"), CASES, ids=[c[0] for c in CASES])
def test_detects_the_board_from_the_url(url: str, kind: str, options: dict[str, str]) -> None:
    found = detect_url(url)
    assert found is not None
    assert (found.kind, dict(found.options)) == (kind, options)
    assert not found.found_in_page
    source_class(kind).validate(found.options, "")  # the options are the adapter's own


def test_every_kind_has_at_least_three_shapes() -> None:
    shapes: dict[str, int] = {}
    for _, kind, _ in CASES:
        shapes[kind] = shapes.get(kind, 0) + 1
    assert set(shapes) == {"greenhouse", "lever", "ashby", "workable", "smartrecruiters", "recruitee", "workday"}
    assert min(shapes.values()) >= 3


BAD = [
    ("ftp://boards.greenhouse.io/acme", r"only http\(s\)"),
    ("javascript:alert(1)", r"only http\(s\)"),
    ("JavaScript://boards.greenhouse.io/acme", r"only http\(s\)"),
    ("file:///etc/passwd", r"only http\(s\)"),
    ("data:text/html,<script>alert(1)</script>", r"only http\(s\)"),
    ("not a url", "not a URL"),
    ("boards.greenhouse.io/acme", r"only http\(s\)"),
    ("https://", "no host"),
    ("http://[::1", "not a valid URL"),
    ("https://example.com:99999/careers", "not a valid URL"),
    ("", "got nothing"),
    ("   ", "got nothing"),
    ("https://boards.greenhouse.io/acme\nx", "not a URL"),
    ("https://acme.wd5.myworkdayjobs.com/", "needs the career site"),
    ("https://jobs.lever.co/..", "does not look like"),
]


@pytest.mark.parametrize(("url", "message"), BAD, ids=[b[0] or "empty" for b in BAD])
def test_bad_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(DetectError, match=message):
        detect_url(url)
    with pytest.raises(DetectError, match=message):
        detect(url, fetch=_no_fetch)  # refused before anything is fetched


def _no_fetch(url: str, **kw: object) -> object:
    raise AssertionError(f"fetched {url}")


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/careers",
        "https://www.greenhouse.io/",
        "https://boards.greenhouse.io/",
        "https://jobs.lever.co/",
        "https://www.recruitee.com/",
        "https://www.workable.com/",
        "https://jobs.smartrecruiters.com/",
    ],
)
def test_other_sites_are_not_boards(url: str) -> None:
    assert detect_url(url) is None


@pytest.mark.parametrize(
    ("page", "kind", "options"),
    [
        (
            '<div id="grnhse_app"></div><script src="https://boards.greenhouse.io/embed/job_board/js?for=acme"></script>',
            "greenhouse",
            {"board": "acme"},
        ),
        ("<iframe src='//boards.greenhouse.io/embed/job_board?for=acme&amp;b=https%3A%2F%2Facme.com'>", "greenhouse", {"board": "acme"}),
        ('<script src="https://jobs.ashbyhq.com/acme/embed?version=2"></script>', "ashby", {"board": "acme"}),
        ('{"careersUrl":"https:\\/\\/jobs.lever.co\\/acme"}', "lever", {"site": "acme"}),
        ('fetch("https://api.eu.lever.co/v0/postings/acme?mode=json")', "lever", {"site": "acme", "region": "eu"}),
        ('<a href="https://apply.workable.com/acme/">Jobs</a>', "workable", {"account": "acme"}),
        ('<a href="https://jobs.smartrecruiters.com/AcmeGroup">Open roles</a>', "smartrecruiters", {"company": "AcmeGroup"}),
        ('<a href="https://acme.recruitee.com/">Careers</a>', "recruitee", {"company": "acme"}),
        (
            '<a href="https://acme.wd5.myworkdayjobs.com/en-US/External">Search jobs</a>',
            "workday",
            {"host": "wd5", "tenant": "acme", "site": "External"},
        ),
    ],
)  # fmt: skip
def test_finds_a_board_embedded_in_a_company_page(page: str, kind: str, options: dict[str, str]) -> None:
    found = find_embedded(f"<html><body><h1>Work with us</h1>{page}</body></html>")
    assert found is not None
    assert (found.kind, dict(found.options), found.found_in_page) == (kind, options, True)


def test_the_board_a_page_mentions_most_wins_and_the_others_are_named() -> None:
    page = (
        '<a href="https://jobs.lever.co/other">partner</a>'
        '<script src="https://boards.greenhouse.io/embed/job_board/js?for=acme"></script>'
        '<a href="https://boards.greenhouse.io/acme/jobs/1">one job</a>'
    )
    found = find_embedded(page)
    assert found is not None and found.kind == "greenhouse" and found.token == "acme"
    assert found.alternatives == ("lever:other",)


def test_a_page_without_a_board_says_so() -> None:
    from core.sources.detect import Page

    def page(url: str, **kw: object) -> Page:
        return Page(url, "<html><a href='https://example.com/jobs'>jobs</a></html>", False)

    assert find_embedded("<html>no board here</html>") is None
    with pytest.raises(DetectError, match="no supported job board found"):
        detect("https://example.com/careers", fetch=page)
