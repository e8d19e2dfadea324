# A Debian 12 "server" for the Molecule scenarios: systemd as PID 1 and python3 for Ansible, and what a real
# site's server has for Ansible to reach it: sshd and a `deploy` user with sudo (inventories/example connects
# so). Nothing else: the product installs Docker on it itself. The key sshd accepts for `deploy` is mounted at
# run time (/etc/ssh/authorized/deploy, made by images.sh): no key is in the image.
FROM vixtract-test/debian:bookworm
ENV container=docker DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends systemd systemd-sysv dbus python3 python3-apt \
      ca-certificates iproute2 procps curl sudo openssh-server \
 && apt-get clean \
 && rm -f /lib/systemd/system/multi-user.target.wants/getty* \
          /etc/systemd/system/getty.target.wants/* \
          /lib/systemd/system/systemd-update-utmp* \
          /etc/ssh/ssh_host_* \
 && systemctl mask systemd-logind.service getty.target console-getty.service systemd-udevd.service \
      systemd-udev-trigger.service \
 && useradd --create-home --shell /bin/bash deploy \
 && echo 'deploy ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy \
 && printf '%s\n' 'AuthorizedKeysFile /etc/ssh/authorized/%u' 'PasswordAuthentication no' 'PermitRootLogin no' \
      > /etc/ssh/sshd_config.d/vixtract-test.conf \
 && mkdir -p /etc/ssh/authorized /etc/systemd/system/ssh.service.d \
 && printf '%s\n' '[Service]' 'ExecStartPre=' 'ExecStartPre=/usr/bin/ssh-keygen -A' 'ExecStartPre=/usr/sbin/sshd -t' \
      > /etc/systemd/system/ssh.service.d/host-keys.conf
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
