#!/usr/bin/python
# Copyright: vixtract.stack maintainers
# Apache License 2.0
from __future__ import annotations

DOCUMENTATION = r"""
module: postgres_access
short_description: Make the stack's PostgreSQL passwords, databases, roles and privileges match a declaration, in one call
version_added: 1.1.0
description:
  - Connects through the server's Unix socket as C(postgres) (peer authentication) and makes everything of the
    declaration so, changing only what differs. Passwords are compared with their stored SCRAM verifiers, never
    printed, and set only when they no longer match.
  - "The declaration, in the order it is applied: the superuser's password; the writer group role (NOLOGIN) with
    CONNECT, TEMPORARY and CREATE on the stack's database and USAGE and CREATE on its schema public; the databases;
    the login roles with their attributes, passwords and memberships; the users' roles (LOGIN, marked with
    O(users_marker), members of the writer role, whose session role in the stack's database is the writer role, so
    the team shares what it creates); the read-only roles (CONNECT, USAGE, SELECT on the tables there and on those
    the writers and owners create later); then the roles to drop: O(absent_roles) and the marked roles whose user is
    no longer in O(listed_users) (what they own goes to the writer role first); and NOLOGIN for marked roles of
    listed users without postgres access."
  - Does what the community.postgresql modules did in about thirty calls, in one; it needs psycopg2 on the server.
options:
  socket:
    description: Directory of the server's PostgreSQL socket.
    type: path
    required: true
  superuser_password:
    description: The password of C(postgres).
    type: str
    required: true
  database:
    description: The stack's database.
    type: str
    required: true
  writer:
    description: The writer group role.
    type: str
    required: true
  databases:
    description: Further databases, each C(name), C(owner), C(encoding), C(state).
    type: list
    elements: dict
    default: []
  login_roles:
    description: Login roles.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The role.
        type: str
        required: true
      password:
        description: Its password.
        type: str
      attributes:
        description: Role attributes, comma-separated (C(CREATEDB,NOINHERIT)).
        type: str
        default: ""
      member_of:
        description: Roles it is a member of.
        type: list
        elements: str
        default: []
      state:
        description: C(present), or C(absent) to drop it.
        type: str
        default: present
  users:
    description: The users' roles (vixtract_users with postgres true).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The user's role.
        type: str
        required: true
      password:
        description: Its password.
        type: str
        required: true
  listed_users:
    description: Every name of vixtract_users.
    type: list
    elements: str
    default: []
  users_marker:
    description: Comment of the users' roles.
    type: str
    required: true
  readonly_roles:
    description: Read-only roles.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The role.
        type: str
        required: true
      password:
        description: Its password.
        type: str
        required: true
      databases:
        description: The databases it reads.
        type: list
        elements: str
        required: true
      schemas:
        description: The schemas it reads in each of them.
        type: list
        elements: str
        default: [public]
      state:
        description: C(present), or C(absent) to drop it.
        type: str
        default: present
  readers_cover:
    description: Roles whose future tables the read-only roles may read.
    type: list
    elements: str
    default: []
  absent_roles:
    description: Roles to drop.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    description: Reports what it would change; changes nothing.
  diff_mode:
    support: full
    description: The RV(changes), one line each, never a password.
requirements:
  - psycopg2 on the server (Debian's C(python3-psycopg2))
author: ViXtract stack maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Passwords, databases and roles
  vixtract.stack.postgres_access:
    socket: /opt/vixtract/postgres/run
    superuser_password: "{{ superuser_password }}"
    database: etl
    writer: etl_writer
    users: [{name: anna.k, password: "{{ anna_pg_password }}"}]
    listed_users: [anna.k, bi]
    users_marker: "vixtract.stack: vixtract_users"
    readonly_roles: [{name: bi_reader, password: "{{ reader_password }}", databases: [etl], schemas: [public]}]
    readers_cover: [etl_writer, anna.k, postgres]
  no_log: true
"""

RETURN = r"""
changes:
  description: What was changed, one line each, never a password.
  type: list
  elements: str
  returned: always
"""

import base64
import hashlib
import hmac
import stringprep
import unicodedata

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vixtract.stack.plugins.module_utils.diff import changes_diff

try:
    import psycopg2
    from psycopg2 import sql
except ImportError:
    psycopg2 = None

ATTRIBUTES = {"SUPERUSER": "rolsuper", "CREATEDB": "rolcreatedb", "CREATEROLE": "rolcreaterole", "INHERIT": "rolinherit",
              "LOGIN": "rolcanlogin", "REPLICATION": "rolreplication", "BYPASSRLS": "rolbypassrls"}


def saslprep(password):
    """The password as PostgreSQL hashes it: SASLprep (RFC 4013), or the password as it is where SASLprep refuses it
    (PostgreSQL does the same: pg_saslprep)."""
    if password.isascii():
        return password
    mapped = "".join(" " if stringprep.in_table_c12(c) else c for c in password if not stringprep.in_table_b1(c))
    normalized = unicodedata.normalize("NFKC", mapped)
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c21, stringprep.in_table_c22, stringprep.in_table_c3,
                  stringprep.in_table_c4, stringprep.in_table_c5, stringprep.in_table_c6, stringprep.in_table_c7,
                  stringprep.in_table_c8, stringprep.in_table_c9, stringprep.in_table_a1)
    if any(check(c) for c in normalized for check in prohibited):
        return password
    if any(stringprep.in_table_d1(c) for c in normalized):
        if any(stringprep.in_table_d2(c) for c in normalized) or not (
                stringprep.in_table_d1(normalized[0]) and stringprep.in_table_d1(normalized[-1])):
            return password
    return normalized


def scram_matches(stored, password):
    """Whether PASSWORD gives the stored SCRAM-SHA-256 verifier (RFC 5802/7677); False for anything else."""
    try:
        method, rest = stored.split("$", 1)
        iterations_salt, keys = rest.split("$", 1)
        iterations, salt = iterations_salt.split(":", 1)
        stored_key, server_key = keys.split(":", 1)
        if method != "SCRAM-SHA-256":
            return False
        salted = hashlib.pbkdf2_hmac("sha256", saslprep(password).encode(), base64.b64decode(salt, validate=True),
                                     int(iterations))
    except (AttributeError, TypeError, ValueError):
        return False
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    server = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(hashlib.sha256(client_key).digest()).decode(), stored_key) and \
        hmac.compare_digest(base64.b64encode(server).decode(), server_key)


def unknown_attributes(attributes):
    """The ATTRIBUTES that are not role attributes (NAME or NONAME of ATTRIBUTES): they would reach SQL as text."""
    return [a for a in attributes if a not in ATTRIBUTES and not (a.startswith("NO") and a[2:] in ATTRIBUTES)]


def wrong_attributes(current, attributes):
    """The ATTRIBUTES (e.g. LOGIN, NOSUPERUSER) the role of CURRENT (pg_roles columns) does not have yet."""
    wrong = []
    for attribute in attributes:
        negative = attribute.startswith("NO") and attribute[2:] in ATTRIBUTES
        column = ATTRIBUTES[attribute[2:] if negative else attribute]
        if bool(current.get(column)) == negative:
            wrong.append(attribute)
    return wrong


class Access:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.check = module.check_mode
        self.changes = []
        self.conns = {}
        # roles a check-mode run would create: the server has no such role to ask about, so nothing is granted
        self.previewed = set()

    def conn(self, db="postgres"):
        if db not in self.conns:
            c = psycopg2.connect(host=self.p["socket"], user="postgres", dbname=db)
            c.autocommit = True
            self.conns[db] = c
        return self.conns[db]

    def one(self, query, args=None, db="postgres"):
        with self.conn(db).cursor() as cur:
            cur.execute(query, args)
            return cur.fetchone()

    def all(self, query, args=None, db="postgres"):
        with self.conn(db).cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall()

    def previewed_role(self, *names):
        """Whether one of NAMES exists only in this check-mode run (a role it would create)."""
        return any(name in self.previewed for name in names)

    def do(self, change, statement, args=None, db="postgres"):
        self.changes.append(change)
        if not self.check:
            with self.conn(db).cursor() as cur:
                cur.execute(statement, args)

    # --- roles ---

    def role(self, name):
        row = self.one("SELECT r.rolname, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolinherit, r.rolcanlogin, "
                       "r.rolreplication, r.rolbypassrls, a.rolpassword, "
                       "shobj_description(r.oid, 'pg_authid') FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid "
                       "WHERE r.rolname = %s", (name,))
        if row is None:
            return None
        keys = ["name"] + list(ATTRIBUTES.values()) + ["password", "comment"]
        return dict(zip(keys, row))

    def ensure_role(self, name, attributes=(), password=None, comment=None):
        """A role with these attributes (others as they are), this password, this comment."""
        unknown = unknown_attributes(attributes)
        if unknown:
            raise ValueError(f"{name}: not a role attribute: {', '.join(unknown)}")
        current = self.role(name)
        ident = sql.Identifier(name)
        if current is None:
            self.do(f"{name}: created", sql.SQL("CREATE ROLE {} " + " ".join(attributes)).format(ident))
            if self.check:
                self.previewed.add(name)
            current = {}
        else:
            wrong = wrong_attributes(current, attributes)
            if wrong:
                self.do(f"{name}: {' '.join(wrong)}", sql.SQL("ALTER ROLE {} " + " ".join(wrong)).format(ident))
        if password is not None and not scram_matches(current.get("password") or "", password):
            self.do(f"{name}: password", sql.SQL("ALTER ROLE {} PASSWORD %s").format(ident), (password,))
        if comment is not None and current.get("comment") != comment:
            self.do(f"{name}: comment", sql.SQL("COMMENT ON ROLE {} IS %s").format(ident), (comment,))

    def ensure_member(self, role, group):
        query = ("SELECT pg_has_role(%s, %s, 'MEMBER') AND EXISTS (SELECT 1 FROM pg_auth_members m "
                 "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member "
                 "WHERE g.rolname = %s AND r.rolname = %s)")
        if self.previewed_role(role, group) or not self.one(query, (role, group, group, role))[0]:
            self.do(f"{role}: member of {group}", sql.SQL("GRANT {} TO {}").format(sql.Identifier(group),
                                                                                   sql.Identifier(role)))

    def drop_role(self, name):
        """What the role owns goes to the writer role, its privileges are revoked, then it goes."""
        if self.role(name) is None:
            return
        for (db,) in self.all("SELECT datname FROM pg_database WHERE datallowconn"):
            self.do(f"{name}: what it owns in {db} goes to {self.p['writer']}",
                    sql.SQL("REASSIGN OWNED BY {} TO {}; DROP OWNED BY {}").format(
                        sql.Identifier(name), sql.Identifier(self.p["writer"]), sql.Identifier(name)), db=db)
        self.do(f"{name}: dropped", sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))

    # --- privileges ---

    def grant_database(self, db, role, privileges):
        missing = [p for p in privileges if self.previewed_role(role)
                   or not self.one("SELECT has_database_privilege(%s, %s, %s)", (role, db, p))[0]]
        if missing:
            self.do(f"{role}: {', '.join(missing)} on database {db}", sql.SQL("GRANT {} ON DATABASE {} TO {}").format(
                sql.SQL(", ").join(map(sql.SQL, missing)), sql.Identifier(db), sql.Identifier(role)))

    def grant_schema(self, db, schema, role, privileges):
        missing = [p for p in privileges if self.previewed_role(role)
                   or not self.one("SELECT has_schema_privilege(%s, %s, %s)", (role, schema, p), db=db)[0]]
        if missing:
            self.do(f"{role}: {', '.join(missing)} on schema {schema} of {db}", sql.SQL("GRANT {} ON SCHEMA {} TO {}").format(
                sql.SQL(", ").join(map(sql.SQL, missing)), sql.Identifier(schema), sql.Identifier(role)), db=db)

    def grant_select_on_tables(self, db, schema, role):
        # a role this preview would create can read none of them yet
        unreadable = self.one("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
                              + ("" if self.previewed_role(role) else " AND NOT has_table_privilege(%s, c.oid, 'SELECT')"),
                              (schema,) if self.previewed_role(role) else (schema, role), db=db)[0]
        if unreadable:
            self.do(f"{role}: SELECT on the {unreadable} tables of {db}.{schema}", sql.SQL(
                "GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(schema), sql.Identifier(role)),
                db=db)

    def default_select(self, db, schema, role, owners):
        for owner in owners:
            if self.role(owner) is None and not self.previewed_role(owner):
                continue
            granted = not self.previewed_role(owner, role) and self.one(
                "SELECT EXISTS (SELECT 1 FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace "
                "CROSS JOIN LATERAL aclexplode(d.defaclacl) a WHERE n.nspname = %s AND d.defaclobjtype = 'r' "
                "AND d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = %s) "
                "AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = %s) AND a.privilege_type = 'SELECT')",
                (schema, owner, role), db=db)[0]
            if not granted:
                self.do(f"{role}: SELECT on tables {owner} creates in {db}.{schema}", sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                    sql.Identifier(owner), sql.Identifier(schema), sql.Identifier(role)), db=db)

    # --- the declaration ---

    def apply(self):
        p = self.p
        writer, db = p["writer"], p["database"]
        self.ensure_role("postgres", password=p["superuser_password"])
        self.ensure_role(writer, ["NOLOGIN"])
        for database in [{"name": db}] + p["databases"]:
            exists = self.one("SELECT 1 FROM pg_database WHERE datname = %s", (database["name"],)) is not None
            if database.get("state", "present") == "absent":
                if exists:
                    self.do(f"database {database['name']}: dropped", sql.SQL("DROP DATABASE {}").format(
                        sql.Identifier(database["name"])))
            elif not exists:
                self.do(f"database {database['name']}: created", sql.SQL(
                    "CREATE DATABASE {} OWNER {} ENCODING %s TEMPLATE template0").format(
                    sql.Identifier(database["name"]), sql.Identifier(database.get("owner") or "postgres")),
                    (database.get("encoding") or "UTF8",))
        self.grant_database(db, writer, ["CONNECT", "TEMPORARY", "CREATE"])
        if not (self.check and any(c == f"database {db}: created" for c in self.changes)):
            self.grant_schema(db, "public", writer, ["USAGE", "CREATE"])

        for role in p["login_roles"]:
            if role.get("state", "present") != "present":
                continue
            flags = ["LOGIN"] + [a.strip().upper() for a in (role.get("attributes") or "").split(",") if a.strip()]
            self.ensure_role(role["name"], flags, role.get("password"))
            for group in role.get("member_of") or []:
                self.ensure_member(role["name"], group)

        for user in p["users"]:
            self.ensure_role(user["name"], ["LOGIN", "NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOREPLICATION",
                                            "NOBYPASSRLS"], user["password"], p["users_marker"])
            self.ensure_member(user["name"], writer)
            setting = f"role={writer}"
            has = self.one("SELECT EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
                           "JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = %s AND d.datname = %s "
                           "AND %s = ANY(s.setconfig))", (user["name"], db, setting))
            if not (has and has[0]):
                self.do(f"{user['name']}: session role {writer} in {db}", sql.SQL(
                    "ALTER ROLE {} IN DATABASE {} SET role = {}").format(
                    sql.Identifier(user["name"]), sql.Identifier(db), sql.Literal(writer)))

        for reader in p["readonly_roles"]:
            if reader["state"] != "present":
                continue
            self.ensure_role(reader["name"], ["LOGIN", "NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE", "NOREPLICATION"],
                             reader["password"])
            for rdb in reader["databases"]:
                if self.check and self.one("SELECT 1 FROM pg_database WHERE datname = %s", (rdb,)) is None:
                    continue
                self.grant_database(rdb, reader["name"], ["CONNECT"])
                owner = next((d.get("owner") or "postgres" for d in p["databases"] if d["name"] == rdb), "postgres")
                for schema in reader.get("schemas") or ["public"]:
                    self.grant_schema(rdb, schema, reader["name"], ["USAGE"])
                    self.grant_select_on_tables(rdb, schema, reader["name"])
                    self.default_select(rdb, schema, reader["name"], list(dict.fromkeys(p["readers_cover"] + [owner])))

        self.retire([name for (name,) in self.all(
            "SELECT r.rolname FROM pg_roles r WHERE shobj_description(r.oid, 'pg_authid') = %s", (p["users_marker"],))])

    def retire(self, marked):
        """Drops the absent roles and the MARKED (made for vixtract_users) of users no longer listed; the marked
        roles of users listed without PostgreSQL access keep existing but cannot log in."""
        p = self.p
        with_access = {u["name"] for u in p["users"]}
        gone = set(p["absent_roles"]) | {m for m in marked if m not in p["listed_users"]}
        for name in sorted(gone):
            self.drop_role(name)
        for name in marked:
            # a user listed with state: absent is gone, not kept without login (ensure_role would make it again)
            if name in p["listed_users"] and name not in with_access and name not in gone:
                self.ensure_role(name, ["NOLOGIN"])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            socket=dict(type="path", required=True),
            superuser_password=dict(type="str", required=True, no_log=True),
            database=dict(type="str", required=True),
            writer=dict(type="str", required=True),
            databases=dict(type="list", elements="dict", default=[]),
            login_roles=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), password=dict(type="str", no_log=True),
                attributes=dict(type="str", default=""), member_of=dict(type="list", elements="str", default=[]),
                state=dict(type="str", default="present"))),
            users=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), password=dict(type="str", required=True, no_log=True))),
            listed_users=dict(type="list", elements="str", default=[]),
            users_marker=dict(type="str", required=True),
            readonly_roles=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True), password=dict(type="str", required=True, no_log=True),
                databases=dict(type="list", elements="str", required=True),
                schemas=dict(type="list", elements="str", default=["public"]),
                state=dict(type="str", default="present"))),
            readers_cover=dict(type="list", elements="str", default=[]),
            absent_roles=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    if psycopg2 is None:
        module.fail_json(msg=missing_required_lib("psycopg2 (python3-psycopg2)"))
    access = Access(module)
    try:
        access.apply()
    except psycopg2.Error as e:
        module.fail_json(msg=f"PostgreSQL refused: {str(e).strip()}", changes=access.changes)
    except ValueError as e:
        module.fail_json(msg=str(e), changes=access.changes)
    finally:
        for conn in access.conns.values():
            conn.close()
    module.exit_json(changed=bool(access.changes), changes=access.changes, **changes_diff(module, access.changes))


if __name__ == "__main__":
    main()
