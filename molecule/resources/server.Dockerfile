# A Debian 12 "server" for the Molecule scenarios: systemd as PID 1 and python3 for Ansible,
# nothing else: the product installs Docker on it itself.
FROM vixtract-test/debian:bookworm
ENV container=docker DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends systemd systemd-sysv dbus python3 python3-apt \
      ca-certificates iproute2 procps curl sudo \
 && apt-get clean \
 && rm -f /lib/systemd/system/multi-user.target.wants/getty* \
          /etc/systemd/system/getty.target.wants/* \
          /lib/systemd/system/systemd-update-utmp* \
 && systemctl mask systemd-logind.service getty.target console-getty.service systemd-udevd.service \
      systemd-udev-trigger.service
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
