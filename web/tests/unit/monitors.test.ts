import { describe, expect, it } from 'vitest';
import {
  agoText,
  displayState,
  emptyForm,
  formatDuration,
  formFieldOf,
  formFromSpec,
  groupText,
  listOf,
  muteUntil,
  parseDuration,
  problemsByField,
  routeOf,
  searchLink,
  specFromForm,
  threatFormat,
  type Monitor,
  type Spec,
} from '../../src/lib/monitors';

const status = (state: string) => ({ state, firing: 0, lastResultCount: 0 });

describe('monitor states', () => {
  it('maps the server state, disabled and muted', () => {
    const m = (state: string, enabled = true, muted = false) => ({ enabled, muted, status: status(state) }) as Pick<Monitor, 'enabled' | 'muted' | 'status'>;
    expect(displayState(m('normal'))).toBe('ok');
    expect(displayState(m('critical'))).toBe('critical');
    expect(displayState(m('warning'))).toBe('warning');
    expect(displayState(m('missingData'))).toBe('missingData');
    expect(displayState(m('error'))).toBe('error');
    expect(displayState(m('disabled', false))).toBe('disabled');
    expect(displayState(m('critical', true, true))).toBe('muted');
    expect(displayState(m('disabled', false, true))).toBe('disabled');
    expect(displayState(m('something new'))).toBe('ok');
  });

  it('describes groups as text with sorted keys', () => {
    expect(groupText({ user: 'alice', src_ip: '<script>' })).toBe('src_ip=<script>, user=alice');
    expect(groupText({})).toBe('(whole monitor)');
    expect(groupText(null)).toBe('(whole monitor)');
  });
});

describe('durations', () => {
  it('parses and formats the server spelling', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration('')).toBeNull();
    expect(parseDuration('5 minutes')).toBeNull();
    expect(parseDuration('m')).toBeNull();
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(86_400_000 + 60_000)).toBe('1d1m');
    expect(agoText(new Date(1_000_000 - 90_000).toISOString(), 1_000_000)).toBe('1m30s ago');
    expect(agoText(new Date(1_000_000 + 40_000).toISOString(), 1_000_000)).toBe('in 40s');
    expect(agoText(undefined)).toBe('—');
    expect(muteUntil('1h', 1000)!.getTime()).toBe(3_601_000);
    expect(muteUntil('bogus')).toBeNull();
  });
});

describe('the monitor form', () => {
  const spec: Spec = {
    name: 'Failed logins',
    description: 'per user',
    query: '_sourceCategory=auth failed | count by user',
    window: '15m',
    frequency: '1m',
    delay: '30s',
    groupBy: ['user'],
    triggers: {
      critical: { field: '_count', op: '>=', threshold: 10 },
      warning: { op: '>', threshold: 0 },
      resolution: { field: '_resultcount', op: '<', threshold: 1 },
      missingData: { severity: 'warning' },
    },
    message: '{{.Group.user}} failed {{.Value}} times',
    notifications: [{ target: 't1', severities: ['critical'] }, { target: 't2' }],
    labels: { check: 'S2' },
    enabled: true,
  };

  it('round-trips a definition', () => {
    const f = formFromSpec(spec);
    expect(f.critical).toEqual({ on: true, subject: 'field', field: '_count', op: '>=', threshold: '10' });
    expect(f.warning.subject).toBe('count');
    expect(f.resolution.subject).toBe('count');
    expect(f.groupBy).toBe('user');
    const { spec: back, problems } = specFromForm(f);
    expect(problems).toEqual([]);
    expect(back).toEqual({ ...spec, triggers: { ...spec.triggers, resolution: { op: '<', threshold: 1 } } });
  });

  it('leaves out what is off or empty', () => {
    const f = emptyForm();
    f.name = ' x ';
    f.query = 'error';
    f.groupBy = ' a, ,b ';
    f.notifications = [{ target: '', severities: [] }];
    const { spec: s, problems } = specFromForm(f);
    expect(problems).toEqual([]);
    expect(s).toEqual({ name: 'x', query: 'error', window: '15m', frequency: '5m', delay: '1m', groupBy: ['a', 'b'], triggers: { critical: { op: '>', threshold: 0 } }, enabled: true });
  });

  it('finds what the browser can tell without the server', () => {
    const f = emptyForm();
    f.critical = { on: true, subject: 'field', field: ' ', op: '>', threshold: 'ten' };
    f.window = '15 minutes';
    const { problems } = specFromForm(f);
    expect(problems.map((p) => p.field).sort()).toEqual(['triggers.critical.field', 'triggers.critical.threshold', 'window']);
  });

  it("puts the server's problems at their fields", () => {
    expect(formFieldOf('groupBy[2]')).toBe('groupBy');
    expect(formFieldOf('notifications[1].target')).toBe('notifications[1]');
    expect(formFieldOf('triggers.warning.op')).toBe('triggers.warning.op');
    expect(formFieldOf('labels')).toBe('');
    expect(formFieldOf('')).toBe('');
    const by = problemsByField([
      { field: 'query', message: 'bad', line: 1, column: 3 },
      { field: 'groupBy[0]', message: 'no field' },
      { field: 'groupBy[1]', message: 'twice' },
      { field: '', message: 'not JSON' },
    ]);
    expect(by.get('groupBy')!.map((p) => p.message)).toEqual(['no field', 'twice']);
    expect(by.get('')!.length).toBe(1);
    expect(by.get('query')![0].column).toBe(3);
  });
});

describe('links and routes', () => {
  it('links to the search of a window', () => {
    const url = searchLink('a & b | count', '2024-05-01T10:00:00Z', '2024-05-01T10:15:00Z');
    const p = new URLSearchParams(url.split('?')[1]);
    expect(url.startsWith('/search?')).toBe(true);
    expect(p.get('q')).toBe('a & b | count');
    expect(p.get('from')).toBe(String(Date.UTC(2024, 4, 1, 10)));
    expect(p.get('to')).toBe(String(Date.UTC(2024, 4, 1, 10, 15)));
  });

  it('reads the page routes', () => {
    expect(routeOf('/monitors')).toEqual({ page: 'list' });
    expect(routeOf('/monitors/')).toEqual({ page: 'list' });
    expect(routeOf('/monitors/new')).toEqual({ page: 'new' });
    expect(routeOf('/monitors/targets')).toEqual({ page: 'targets' });
    expect(routeOf('/monitors/threat-lists')).toEqual({ page: 'threats' });
    expect(routeOf('/monitors/abc')).toEqual({ page: 'detail', id: 'abc' });
    expect(routeOf('/monitors/a%2Fb/edit')).toEqual({ page: 'edit', id: 'a/b' });
  });

  it('reads list answers', () => {
    expect(listOf([1], 'x')).toEqual([1]);
    expect(listOf({ monitors: [2] }, 'monitors')).toEqual([2]);
    expect(listOf({ monitors: null }, 'monitors')).toEqual([]);
    expect(() => listOf({ other: [] }, 'monitors')).toThrow(/monitors/);
  });

  it('tells CSV from STIX', () => {
    expect(threatFormat('feed.csv', '{')).toBe('csv');
    expect(threatFormat('bundle.json', 'x')).toBe('stix');
    expect(threatFormat('feed', '  {"type":"bundle"}')).toBe('stix');
    expect(threatFormat('feed', 'indicator\n1.2.3.4')).toBe('csv');
  });
});
