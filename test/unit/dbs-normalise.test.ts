import { describe, expect, it } from 'vitest';
import { DbsApiError } from '../../src/dbs/errors.js';
import { MAX_TEXT_LENGTH, normaliseDownloadUrl, normaliseTask } from '../../src/dbs/normalise.js';
import { parseDownloadTaskListBody } from '../../src/dbs/schema.js';

/** The sample item from shared/reference/dbs-api.md. */
const sample = {
  BackupSetDownloadStatus: 'finish',
  BackupSetDataSize: 237837,
  BackupSetDownloadTargetType: 'agent',
  BackupSetDownloadDir: '/data/backup',
  ErrMessage: 'java.lang.IndexOutOfBoundsException.',
  BackupSetDownloadCreateTime: 1642044001000,
  BackupPlanId: 'qhnuhyw3****',
  BackupSetDbType: 'MySQL',
  BackupSetDownloadInternetUrl: '"//dbs-137XXXX-cn-hangzhou-1hr5cpbtmXXXX.oss-cn-hangzhou.example"',
  BackupSetId: '1h7za2yws****',
  BackupSetDownloadIntranetUrl: '\\"//dbs-13XXXX.oss-cn-hangzhou-internal.example/f.tar?Signature=abc\\"',
  BackupGatewayId: 0,
  BackupSetDownloadWay: 'manual',
  BackupSetDownloadFinishTime: 1642044013000,
  BackupSetJobType: 'cbs_backup_sub_cont',
  BackupSetDownloadTaskId: 'urxgrxt7****',
  BackupSetDownloadTaskName: '1h7za2yws****-ManualCont',
  BackupSetDataFormat: 'Native',
  BackupSetCode: 'mysql-bin.00XXXX',
};

function collectWarnings() {
  const warnings: { message: string; fields?: object | undefined }[] = [];
  return { warnings, warn: (message: string, fields?: object) => warnings.push({ message, fields }) };
}

describe('normaliseTask', () => {
  it('maps every field of the sample item to the camelCase model', () => {
    expect(normaliseTask(sample, { planId: 'qhnuhyw3****' })).toEqual({
      taskId: 'urxgrxt7****',
      planId: 'qhnuhyw3****',
      status: 'finish',
      name: '1h7za2yws****-ManualCont',
      backupSetId: '1h7za2yws****',
      backupSetCode: 'mysql-bin.00XXXX',
      dbType: 'MySQL',
      jobType: 'cbs_backup_sub_cont',
      dataFormat: 'Native',
      dataSize: 237837,
      downloadWay: 'manual',
      internetUrl: 'https://dbs-137XXXX-cn-hangzhou-1hr5cpbtmXXXX.oss-cn-hangzhou.example',
      intranetUrl: 'https://dbs-13XXXX.oss-cn-hangzhou-internal.example/f.tar?Signature=abc',
      targetType: 'agent',
      downloadDir: '/data/backup',
      createdAt: 1642044001000,
      finishedAt: 1642044013000,
      errorMessage: 'java.lang.IndexOutOfBoundsException.',
    });
  });

  it('accepts numbers sent as strings and treats empty strings and null as absent', () => {
    const task = normaliseTask(
      {
        BackupSetDownloadTaskId: 't1',
        BackupSetDownloadStatus: 'running',
        BackupSetDataSize: ' 1024 ',
        BackupSetDownloadCreateTime: '1642044001000',
        BackupSetDownloadFinishTime: '',
        BackupSetDownloadTaskName: '   ',
        ErrMessage: null,
        BackupSetDownloadInternetUrl: '',
        BackupGatewayId: '17',
      },
      { planId: 'p1' },
    );
    expect(task).toEqual({ taskId: 't1', planId: 'p1', status: 'running', dataSize: 1024, createdAt: 1642044001000, gatewayId: 17 });
    expect(Object.keys(task)).not.toContain('finishedAt');
  });

  it('drops a non-numeric number with a warning instead of failing', () => {
    const { warnings, warn } = collectWarnings();
    const task = normaliseTask({ BackupSetDownloadTaskId: 't1', BackupSetDownloadStatus: 'finish', BackupSetDataSize: 'lots' }, { planId: 'p', warn });
    expect(task.dataSize).toBeUndefined();
    expect(warnings).toEqual([expect.objectContaining({ fields: expect.objectContaining({ field: 'BackupSetDataSize' }) })]);
  });

  it('scales a time that can only be epoch seconds to milliseconds', () => {
    const task = normaliseTask({ BackupSetDownloadTaskId: 't', BackupSetDownloadStatus: 'finish', BackupSetDownloadCreateTime: 1642044001 }, { planId: 'p' });
    expect(task.createdAt).toBe(1642044001000);
  });

  it('takes the plan id from the item when the context has none', () => {
    expect(normaliseTask({ BackupSetDownloadTaskId: 't', BackupSetDownloadStatus: 'init', BackupPlanId: 'px' }, { planId: '' }).planId).toBe('px');
  });

  it('keeps an unknown status as-is and warns once per status', () => {
    const { warnings, warn } = collectWarnings();
    const raw = { BackupSetDownloadTaskId: 't', BackupSetDownloadStatus: 'hibernating-unit-test' };
    expect(normaliseTask(raw, { planId: 'p', warn }).status).toBe('hibernating-unit-test');
    expect(normaliseTask({ ...raw, BackupSetDownloadTaskId: 't2' }, { planId: 'p', warn }).status).toBe('hibernating-unit-test');
    expect(warnings.filter((w) => w.message.includes('unknown download status'))).toHaveLength(1);
  });

  it('lower-cases a known status sent in another case', () => {
    expect(normaliseTask({ BackupSetDownloadTaskId: 't', BackupSetDownloadStatus: ' Finish ' }, { planId: 'p' }).status).toBe('finish');
  });

  it.each([
    ['no task id', { BackupSetDownloadStatus: 'finish' }, /BackupSetDownloadTaskId/],
    ['an empty task id', { BackupSetDownloadTaskId: '', BackupSetDownloadStatus: 'finish' }, /BackupSetDownloadTaskId/],
    ['no status', { BackupSetDownloadTaskId: 't9' }, /task t9 has no BackupSetDownloadStatus/],
    ['a null status', { BackupSetDownloadTaskId: 't9', BackupSetDownloadStatus: null }, /BackupSetDownloadStatus/],
    ['not an object', 'garbage', /not an object/],
  ])('rejects an item with %s as an invalid, retryable response', (_name, raw, message) => {
    let caught: unknown;
    try {
      normaliseTask(raw, { planId: 'p' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DbsApiError);
    expect(caught).toMatchObject({ code: 'InvalidResponse', retry: { kind: 'retryable' } });
    expect((caught as Error).message).toMatch(message);
  });

  it('cuts a huge name to a bounded length', () => {
    const task = normaliseTask(
      { BackupSetDownloadTaskId: 't', BackupSetDownloadStatus: 'finish', BackupSetDownloadTaskName: 'x'.repeat(1_000_000) },
      { planId: 'p' },
    );
    expect(task.name).toHaveLength(MAX_TEXT_LENGTH);
  });
});

describe('normaliseDownloadUrl', () => {
  it.each([
    ['a plain https URL', 'https://h.example/a?b=c', 'https://h.example/a?b=c'],
    ['a plain http URL', 'http://h.example/a', 'http://h.example/a'],
    ['a scheme-less URL', '//h.example/a', 'https://h.example/a'],
    ['a quoted scheme-less URL', '"//h.example/a"', 'https://h.example/a'],
    ['an escaped-quoted URL', '\\"//h.example/a?x=1\\"', 'https://h.example/a?x=1'],
    ['doubly quoted', '"\\"https://h.example/a\\""', 'https://h.example/a'],
    ['surrounding spaces', '  https://h.example/a  ', 'https://h.example/a'],
  ])('cleans %s', (_name, raw, expected) => {
    expect(normaliseDownloadUrl(raw)).toBe(expected);
  });

  it.each([
    ['javascript:', 'javascript:alert(1)'],
    ['file:', 'file:///etc/passwd'],
    ['ftp:', 'ftp://h.example/a'],
    ['a relative path', '/just/a/path'],
    ['garbage', 'not a url at all'],
    ['a URL with a space inside', 'https://h.example/a b'],
  ])('rejects %s with a warning', (_name, raw) => {
    const { warnings, warn } = collectWarnings();
    expect(normaliseDownloadUrl(raw, warn)).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });

  it('logs a rejected URL without its query string', () => {
    const { warnings, warn } = collectWarnings();
    expect(normaliseDownloadUrl('gopher://h.example/a?Signature=SECRETSIG', warn)).toBeUndefined();
    expect(JSON.stringify(warnings)).not.toContain('SECRETSIG');
    expect(JSON.stringify(warnings)).toContain('gopher://h.example/a');
  });

  it.each([[undefined], [null], [''], ['""'], [42]])('returns undefined without a warning for %j', (raw) => {
    const { warnings, warn } = collectWarnings();
    expect(normaliseDownloadUrl(raw, warn)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('drops a task URL that is not http(s) and keeps the task', () => {
    const { warnings, warn } = collectWarnings();
    const task = normaliseTask(
      { BackupSetDownloadTaskId: 't', BackupSetDownloadStatus: 'finish', BackupSetDownloadInternetUrl: 'javascript:alert(1)//?token=zzz' },
      { planId: 'p', warn },
    );
    expect(task.internetUrl).toBeUndefined();
    expect(warnings[0]?.fields).toMatchObject({ field: 'BackupSetDownloadInternetUrl', taskId: 't' });
    expect(JSON.stringify(warnings)).not.toContain('zzz');
  });
});

describe('parseDownloadTaskListBody (the envelope)', () => {
  const ok = { RequestId: 'R', PageNum: 0, PageSize: 30, TotalPages: 1, TotalElements: 1, Items: { BackupSetDownloadTaskDetail: [{}] } };

  it('accepts paging numbers sent as strings', () => {
    expect(parseDownloadTaskListBody({ ...ok, TotalPages: '1', TotalElements: '1', PageNum: '0' })).toEqual({
      requestId: 'R',
      pageNum: 0,
      pageSize: 30,
      totalPages: 1,
      totalElements: 1,
      items: [{}],
    });
  });

  it('accepts an answer without TotalPages/TotalElements (optional in the SDK models): the pager pages to an empty or short page', () => {
    const { TotalPages: _p, TotalElements: _e, ...bare } = ok;
    expect(parseDownloadTaskListBody(bare)).toEqual({ requestId: 'R', pageNum: 0, pageSize: 30, items: [{}] });
    expect(parseDownloadTaskListBody({ PageNum: 0 }).items).toEqual([]);
  });

  it('cuts URL query strings out of ErrMessage (it is logged, stored and shown)', () => {
    const task = normaliseTask(
      {
        BackupSetDownloadTaskId: 't',
        BackupSetDownloadStatus: 'stop',
        ErrMessage: 'cannot read https://b.oss.example/x.tar.gz?Expires=1&Signature=SECRET: 403',
      },
      { planId: 'p' },
    );
    expect(task.errorMessage).toBe('cannot read https://b.oss.example/x.tar.gz?… 403');
  });

  it('accepts an empty plan without the Items wrapper', () => {
    expect(parseDownloadTaskListBody({ TotalPages: 0, TotalElements: 0 }).items).toEqual([]);
  });

  it.each([
    ['a non-numeric TotalPages', { ...ok, TotalPages: 'many' }, /TotalPages must be a number/],
    ['a negative TotalElements', { ...ok, TotalElements: -1 }, /TotalElements must not be negative/],
    ['an item list that is not an array', { ...ok, Items: { BackupSetDownloadTaskDetail: 'x' } }, /Items\.BackupSetDownloadTaskDetail must be an array/],
    ['a missing item list while tasks exist', { ...ok, Items: {} }, /Items\.BackupSetDownloadTaskDetail is missing while TotalElements is 1/],
    ['a body that is not an object', 'nope', /invalid response/],
  ])('rejects %s, naming the field', (_name, body, message) => {
    expect(() => parseDownloadTaskListBody(body)).toThrow(message);
    expect(() => parseDownloadTaskListBody(body)).toThrow(DbsApiError);
  });
});
