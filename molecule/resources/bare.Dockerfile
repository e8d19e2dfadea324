# A fresh Debian 12 machine of the kind this project is developed on, for the quickstart scenario: root, no
# systemd (PID 1 is whatever the container runs), no Docker, python3 and git, and the TLS-intercepting proxy's CA
# trusted system-wide (host-ca-bundle.crt is this machine's own bundle, put beside this file by images.sh).
FROM vixtract-test/debian:bookworm
ENV DEBIAN_FRONTEND=noninteractive
COPY host-ca-bundle.crt /usr/local/share/ca-certificates/host-ca-bundle.crt
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 git ca-certificates procps iproute2 curl \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && update-ca-certificates
CMD ["sleep", "infinity"]
