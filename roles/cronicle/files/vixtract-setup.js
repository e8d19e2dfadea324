#!/usr/bin/env node
// vixtract.stack: writes conf/setup.json for Cronicle's one-time `storage-cli.js setup` from the release's
// sample_conf/setup.json, without the release's Shell Script, HTTP Request and Test plugins (arbitrary commands:
// the role adds the stack's one plugin, vixtract_notebook, through the API) and with the secrets the role
// generated instead of admin/admin, from SECRETS/setup.json:
//   admin_password       password of the 'admin' account
//   automation_password  password of the 'vixtract' account the role uses for the user API
//   api_key              the automation API key (global/api_keys)
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const bcrypt = require('bcrypt-node');

const dir = process.argv[2];
const secrets = JSON.parse(fs.readFileSync(path.join(dir, 'setup.json'), 'utf8'));
const secret = (name) => secrets[name];
const root = path.dirname(__dirname);
const setup = JSON.parse(fs.readFileSync(path.join(root, 'sample_conf/setup.json'), 'utf8'));

const account = (username, full_name, password) => {
  const salt = crypto.randomBytes(32).toString('hex');
  return { username, full_name, email: username + '@localhost', active: 1,
           modified: 1, created: 1, salt, password: bcrypt.hashSync(password + salt),
           privileges: { admin: 1 } };
};

const storage = setup.storage.filter((op) => !(op[0] === 'put' && op[1] === 'users/admin')
  && !(op[0] === 'listPush' && op[1] === 'global/plugins'));
storage.unshift(['put', 'users/admin', account('admin', 'Administrator', secret('admin_password'))]);
storage.unshift(['put', 'users/vixtract', account('vixtract', 'vixtract.stack automation', secret('automation_password'))]);
const at = storage.findIndex((op) => op[0] === 'listPush' && op[1] === 'global/users');
storage.splice(at + 1, 0, ['listPush', 'global/users', { username: 'vixtract' }]);
storage.push(['listPush', 'global/api_keys', {
  id: 'kvixtract', title: 'vixtract.stack automation', key: secret('api_key'), active: 1,
  description: 'Used by the vixtract.stack Ansible roles to manage events', username: 'vixtract',
  modified: 1, created: 1, privileges: { admin: 1 } }]);
setup.storage = storage;

fs.writeFileSync(path.join(root, 'conf/setup.json'), JSON.stringify(setup, null, 2), { mode: 0o600 });
