"""Signs a benchmark member in and prints the session cookie (for signed-in page benchmarks)."""

from __future__ import annotations

import re
import sys

import httpx


def main(base: str, email: str = "member2@bench.example", password: str = "bench-password") -> None:
    with httpx.Client(base_url=base) as client:
        page = client.get("/auth/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if token is None:
            raise SystemExit("no CSRF token on the sign-in page")
        answer = client.post(
            "/auth/signin", data={"email": email, "password": password, "csrf_token": token.group(1)}
        )
        if answer.status_code != 303:
            raise SystemExit(f"sign-in failed: {answer.status_code}")
        # The redirect's page shows (and so drops) the "Signed in" flash: a member browsing on has none.
        client.get(answer.headers["location"])
        print("; ".join(f"{k}={v}" for k, v in client.cookies.items()))


if __name__ == "__main__":
    main(*sys.argv[1:])
