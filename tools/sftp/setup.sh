#!/usr/bin/env bash
# The SFTP plugin's test rig needs two things from the machine (tools/sftp/README.md):
# OpenSSH's sshd (Debian's openssh-server, installed by tools/setup.mjs) and a system user
# the tests log in as, `xo-sftp-test`, with a known test-only password. The tests start
# their own sshd on 127.0.0.1 from a generated config; this script only prepares the user.
# Safe to run repeatedly.
set -euo pipefail

USER_NAME=xo-sftp-test
# Test-only, public on purpose: the user can log in only through the tests' own sshd
# (the drop-in below denies it to the machine's sshd), has no shell and owns nothing.
PASSWORD=xo-sftp-test-password

if [[ ! -x /usr/sbin/sshd ]]; then
  echo "setup: /usr/sbin/sshd is missing; install Debian's openssh-server (tools/setup.mjs does it as root)" >&2
  exit 1
fi

if [[ "$(id -u)" != 0 ]]; then
  if id "$USER_NAME" >/dev/null 2>&1; then exit 0; fi
  echo "setup: the SFTP tests log in as the system user $USER_NAME; run this once as root to create it (tools/sftp/README.md)" >&2
  exit 1
fi

if ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$USER_NAME"
fi
echo "$USER_NAME:$PASSWORD" | chpasswd

# Debian's sshd_config includes sshd_config.d/*.conf: the machine's own sshd, if it ever
# runs, refuses this user. The tests' sshd reads only its generated config.
if [[ -d /etc/ssh/sshd_config.d ]]; then
  printf '# Written by xo-foundry tools/sftp/setup.sh: the test-only user is for the test sshd alone.\nDenyUsers %s\n' "$USER_NAME" \
    > /etc/ssh/sshd_config.d/xo-sftp-test.conf
fi
