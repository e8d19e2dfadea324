"""The JupyterHub authenticator of the ViXtract stack (installed by vixtract.stack.jupyterhub).

Local accounts and LDAP side by side:
- a name listed in the stack's local users file (vixtract_users, state present) is checked with PAM against
  its system account, and only there: an LDAP entry of the same name never logs it in;
- any other name goes to LDAP (when enabled) through ldapauthenticator 2.x: bind, then `allowed_groups`;
- an allowed LDAP user gets a system account and a home at first login, so their server runs as them and
  Cronicle (same users volume) can run their scheduled notebooks as them;
- an LDAP name that is one of the image's own accounts or groups (root, mail, backup, ...) or breaks the login
  rule never logs in: its server would run as that account.

Nobody is a JupyterHub admin: JupyterHub's admin role opens every user's server (code as them) and mints tokens
for them, so every login says admin: False. The stack's admins (vixtract_users admin: true,
vixtract_ldap_admin_users) hold the role vixtract-hub-admin instead, which jupyterhub_config.py defines and assigns
(the admin page, every user's activity, starting and stopping their servers, never entering them).
"""
import asyncio

import pamela
from ldapauthenticator import LDAPAuthenticator
from traitlets import Bool, Unicode, default

import vixtract_accounts as acc


class VixtractAuthenticator(LDAPAuthenticator):
    ldap_enabled = Bool(False, config=True, help="Try LDAP for names that are not local users.")
    pam_service = Unicode("vixtract", config=True, help="PAM service that checks local passwords.")

    @default("username_pattern")
    def _username_pattern_default(self):
        # JupyterHub matches it at the start only: \Z makes it the whole name (also for users made through the API)
        return acc.NAME.pattern + r"\Z"

    def _local(self, name):
        return acc.read_local_users().get(name)

    async def authenticate(self, handler, data):
        name = (data.get("username") or "").strip()
        password = data.get("password") or ""
        if not name or not password:
            return None
        local = self._local(name)
        if local is not None:
            try:
                await asyncio.get_running_loop().run_in_executor(
                    None, lambda: pamela.authenticate(name, password, service=self.pam_service))
            except pamela.PAMError as e:
                self.log.warning("Local login of %s refused: %s", name, e)
                return None
            return {"name": name, "admin": False, "auth_state": {"source": "local"}}
        if not self.ldap_enabled:
            self.log.warning("Login of %s refused: not a local user and LDAP is off", name)
            return None
        if not acc.is_stack_name(name.lower()):
            self.log.warning("LDAP login of %r refused: the name of one of the image's accounts, or not a valid login", name)
            return None
        model = await super().authenticate(handler, data)
        if model is not None:
            if not acc.is_stack_name(model["name"]):
                self.log.warning("LDAP login of %r refused: the name of one of the image's accounts", model["name"])
                return None
            model.setdefault("auth_state", {})["source"] = "ldap"
            model["admin"] = False
        return model

    async def check_allowed(self, username, auth_model):
        source = ((auth_model or {}).get("auth_state") or {}).get("source")
        if source == "local":
            return self._local(username) is not None
        if source != "ldap" or not self.ldap_enabled:
            return False
        if not self.allowed_groups:
            return True  # no group restriction: every user who binds to the directory
        return await super().check_allowed(username, auth_model)

    async def run_post_auth_hook(self, handler, auth_model):
        """Runs only for allowed users: an LDAP user gets their system account and home here."""
        if (auth_model.get("auth_state") or {}).get("source") == "ldap":
            await asyncio.get_running_loop().run_in_executor(None, self._ensure_system_user, auth_model["name"])
        return await super().run_post_auth_hook(handler, auth_model)

    def _ensure_system_user(self, name):
        with acc.locked():
            acc.ensure_layout()
            if acc.ensure_user(name):
                self.log.info("Created the system account and home of LDAP user %s", name)

    def pre_spawn_start(self, user, spawner):
        """A server never starts for a name without a stack account (e.g. removed meanwhile), nor as one of the
        image's accounts or any uid below the stack's (a user renamed through the API to root would be one)."""
        if not acc.is_stack_name(user.name):
            raise RuntimeError(f"{user.name!r} is not a stack account: no server starts for it")
        if not acc.system_user_exists(user.name):
            if self._local(user.name) is None and self.ldap_enabled:
                self._ensure_system_user(user.name)
            else:
                raise RuntimeError(f"{user.name} has no system account")
        entry = acc.passwd_entry(user.name)
        if entry is None or int(entry[2]) < acc.UID_MIN or int(entry[3]) < acc.UID_MIN:
            raise RuntimeError(f"{user.name} is not a stack account (uid below {acc.UID_MIN}): no server starts")
