# Test harness: the client side of the user-journey tests (molecule/default/tests/test_journey.py), not a
# product image. A real browser (chromium driven through chromedriver's W3C WebDriver API), the JDBC driver
# BI tools such as DBeaver or Visiology load (run by a Java single-file program), and psql.
# libnss3-tools: certutil puts the stack's self-signed CA into chromium's NSS database, so the browser
# verifies the site's certificate instead of ignoring errors.
ARG BASE=debian:trixie-slim
FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium chromium-driver default-jre-headless \
      libpostgresql-jdbc-java postgresql-client python3 ca-certificates fonts-dejavu-core libnss3-tools \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
CMD ["sleep", "infinity"]
