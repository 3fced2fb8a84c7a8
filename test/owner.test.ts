// R7: a lease owner is judged crashed only on evidence two live processes cannot share. Same host name and
// pid are not such evidence (two containers, one hostname, each pid 1); same host, boot and pid namespace are.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatOwner, judgeOwnerGone, ownerIsGone, parseOwner, PROCESS_OWNER, SELF, type OwnerId } from '../src/ledger/owner.js';

const US: OwnerId = { host: 'shop-replica', pid: 1, nonce: 'aaaaaaaa', boot: '46172b6f-d268-4d27-8d2d-cfa7f9d19f2f', pidns: '4026531836' };
const alive = () => 'alive' as const;
const dead = () => 'gone' as const;

describe('R7: lease owner judgement', () => {
  it('R7: same host and pid, another nonce, but another pid namespace (a sibling container) → not gone', () => {
    const sibling = formatOwner({ ...US, nonce: 'bbbbbbbb', pidns: '4026532999' });
    expect(judgeOwnerGone(sibling, US, dead)).toBe(false);
  });

  it('R7: same host and pid, another nonce, another boot (another machine or a reboot with the same name) → not gone', () => {
    expect(judgeOwnerGone(formatOwner({ ...US, nonce: 'bbbbbbbb', boot: '00000000-0000-0000-0000-000000000000' }), US, dead)).toBe(false);
  });

  it('R7: same host, boot, namespace and pid with another nonce (an earlier incarnation of this process) → gone', () => {
    expect(judgeOwnerGone(formatOwner({ ...US, nonce: 'bbbbbbbb' }), US, alive)).toBe(true);
  });

  it('R7: ourselves → not gone', () => {
    expect(judgeOwnerGone(formatOwner(US), US, dead)).toBe(false);
  });

  it('R7: another pid in the same host, boot and namespace: gone only when kill(pid, 0) says ESRCH', () => {
    const other = formatOwner({ ...US, pid: 4242, nonce: 'cccccccc' });
    expect(judgeOwnerGone(other, US, dead)).toBe(true);
    expect(judgeOwnerGone(other, US, alive)).toBe(false);
  });

  it('R7: another host → not gone, whatever its pid', () => {
    expect(judgeOwnerGone(formatOwner({ ...US, host: 'elsewhere', pid: 4242 }), US, dead)).toBe(false);
  });

  it('R7: an unknown boot id or namespace (ours or theirs) proves nothing → not gone', () => {
    const them = formatOwner({ ...US, pid: 4242, nonce: 'cccccccc' });
    expect(judgeOwnerGone(them, { ...US, pidns: '' }, dead)).toBe(false);
    expect(judgeOwnerGone(them, { ...US, boot: '' }, dead)).toBe(false);
    expect(judgeOwnerGone(formatOwner({ ...US, pid: 4242, pidns: '' }), US, dead)).toBe(false);
    expect(judgeOwnerGone(formatOwner({ ...US, pid: 4242, boot: '' }), US, dead)).toBe(false);
  });

  it('R7: old-format owners (host:pid:nonce) stay parseable as not provably gone; so does garbage', () => {
    for (const old of [`${US.host}:1:bbbbbbbb`, `${US.host}:4242:deadbeef`, 'dead:1', '', 'x:y:z:boot=:pidns=']) {
      expect(judgeOwnerGone(old, US, dead)).toBe(false);
    }
    expect(parseOwner(`${US.host}:1:bbbbbbbb`)).toBeUndefined();
  });

  it('R7: this process owner round-trips and carries the boot id and pid namespace read from /proc', () => {
    expect(parseOwner(PROCESS_OWNER)).toEqual(SELF);
    expect(SELF.pid).toBe(process.pid);
    if (process.platform === 'linux') {
      expect(SELF.boot).toMatch(/^[0-9a-f-]{36}$/);
      expect(SELF.pidns).toMatch(/^\d+$/);
    }
    expect(ownerIsGone(PROCESS_OWNER)).toBe(false);
  });

  it.runIf(process.platform === 'linux')('R7: a real dead process in our namespace is gone; a live one is not', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const owner = formatOwner({ ...SELF, pid: child.pid!, nonce: 'dddddddd' });
    expect(ownerIsGone(owner)).toBe(false);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(ownerIsGone(owner)).toBe(true);
  });
});
