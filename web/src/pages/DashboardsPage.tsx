import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, post } from '../lib/api';
import type { Dashboard, DashboardSummary } from '../lib/dashboards';
import { navClick, navigate } from '../lib/nav';

function errMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface SumoReport {
  dryRun: boolean;
  imported: { kind: string; format?: string; path: string; name: string; id?: string; panels?: number; variables?: number; droppedPanels?: number; notes?: string[] }[];
  notImported: { kind: string; path: string; item?: string; name: string; query?: string; line?: number; column?: number; reason: string }[];
}

/** readFile reads a chosen file as text. */
function readFile(f: File): Promise<string> {
  return f.text();
}

/** DashboardsPage lists the dashboards by folder, creates new ones, imports JSON and Sumo Logic exports. */
export function DashboardsPage() {
  const [list, setList] = useState<DashboardSummary[] | null>(null);
  const [error, setError] = useState('');
  const [filter, setFilter] = useState('');
  const [notice, setNotice] = useState('');
  const [report, setReport] = useState<SumoReport | null>(null);
  const [seq, setSeq] = useState(0);

  useEffect(() => {
    get<{ dashboards: DashboardSummary[] }>('/api/v1/dashboards')
      .then((r) => setList(r.dashboards ?? []))
      .catch((e) => setError(errMessage(e)));
  }, [seq]);

  const folders = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const m = new Map<string, DashboardSummary[]>();
    for (const d of list ?? []) {
      if (f && !d.title.toLowerCase().includes(f) && !(d.folder ?? '').toLowerCase().includes(f)) continue;
      const k = d.folder || 'Dashboards';
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(d);
    }
    for (const v of m.values()) v.sort((a, b) => a.title.localeCompare(b.title));
    return [...m.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }, [list, filter]);

  const create = async () => {
    const title = prompt('Title of the new dashboard', 'New dashboard');
    if (!title) return;
    try {
      const d = await post<Dashboard>('/api/v1/dashboards', {
        title,
        timeRange: { from: '-24h', to: 'now' },
        panels: [{ id: 'p1', title: 'Messages over time', query: '* | timeslice 1h | count by _timeslice, _sourceCategory', visualization: { type: 'column' }, layout: { x: 0, y: 0, w: 24, h: 8 } }],
      });
      navigate(`/dashboards/${encodeURIComponent(d.id!)}?edit=1`);
    } catch (e) {
      setNotice('Create failed: ' + errMessage(e));
    }
  };

  const importJSON = async (f: File | undefined) => {
    if (!f) return;
    try {
      const text = await readFile(f);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new Error(`${f.name} is not JSON: ${errMessage(e)}`);
      }
      const r = await post<{ dashboards: Dashboard[] }>('/api/v1/dashboards/import', body);
      setNotice(`Imported ${r.dashboards.length} dashboard(s) from ${f.name}.`);
      setSeq((n) => n + 1);
    } catch (e) {
      setNotice('Import failed: ' + errMessage(e));
    }
  };

  const importSumo = async (f: File | undefined) => {
    if (!f) return;
    try {
      const text = await readFile(f);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new Error(`${f.name} is not JSON: ${errMessage(e)}`);
      }
      const r = await post<SumoReport>('/api/v1/sumo/import', body);
      setReport(r);
      setSeq((n) => n + 1);
    } catch (e) {
      setNotice('Sumo import failed: ' + errMessage(e));
    }
  };

  return (
    <div class="page list-page" data-testid="dashboards-page">
      <div class="page-head">
        <h1>Dashboards</h1>
        <input type="search" placeholder="Filter" aria-label="Filter dashboards" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
        <span class="spacer" />
        <button type="button" class="btn primary" onClick={create} data-testid="new-dashboard">
          New dashboard
        </button>
        <label class="btn file-btn">
          Import JSON
          <input type="file" accept=".json,application/json" data-testid="import-json" onChange={(e) => void importJSON((e.target as HTMLInputElement).files?.[0])} />
        </label>
        <label class="btn file-btn">
          Upload Sumo export
          <input type="file" accept=".json,application/json" data-testid="import-sumo" onChange={(e) => void importSumo((e.target as HTMLInputElement).files?.[0])} />
        </label>
      </div>
      {notice && (
        <div class="warning" role="status" data-testid="dashboards-notice">
          {notice}{' '}
          <button type="button" class="link" onClick={() => setNotice('')}>
            dismiss
          </button>
        </div>
      )}
      {report && <SumoReportView report={report} onClose={() => setReport(null)} />}
      {error && <p class="error-text">{error}</p>}
      {list && list.length === 0 && (
        <p class="muted">
          No dashboards yet. Install an app from the{' '}
          <a href="/apps" onClick={navClick}>
            app catalog
          </a>{' '}
          or create one.
        </p>
      )}
      {folders.map(([folder, items]) => (
        <section key={folder} class="folder">
          <h2>{folder}</h2>
          <ul class="card-list">
            {items.map((d) => (
              <li key={d.id} class="card">
                <a href={`/dashboards/${encodeURIComponent(d.id)}`} onClick={navClick} data-testid="dashboard-link">
                  {d.title}
                </a>
                <span class="muted small">
                  {d.panelCount} panels{d.app ? ` · app ${d.app.name} ${d.app.version}` : ''} · updated {new Date(d.updatedAt).toLocaleString()}
                  {d.updatedBy ? ` by ${d.updatedBy}` : ''}
                </span>
                {d.description && <span class="small">{d.description}</span>}
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function SumoReportView({ report, onClose }: { report: SumoReport; onClose: () => void }) {
  return (
    <section class="report" data-testid="sumo-report">
      <div class="page-head">
        <h2>
          Sumo Logic import{report.dryRun ? ' (dry run)' : ''}: {report.imported.length} imported, {report.notImported.length} not imported
        </h2>
        <span class="spacer" />
        <button type="button" class="btn" onClick={onClose}>
          Close
        </button>
      </div>
      {report.imported.length > 0 && (
        <table class="result-table">
          <thead>
            <tr>
              <th>Imported</th>
              <th>Kind</th>
              <th>Path</th>
              <th>Notes</th>
            </tr>
          </thead>
          <tbody>
            {report.imported.map((i, n) => (
              <tr key={n}>
                <td>{i.id && i.kind === 'dashboard' ? <a href={`/dashboards/${encodeURIComponent(i.id)}`} onClick={navClick}>{i.name}</a> : i.name}</td>
                <td>
                  {i.kind}
                  {i.format ? ` (${i.format})` : ''}
                  {i.panels ? ` · ${i.panels} panels` : ''}
                  {i.droppedPanels ? ` · ${i.droppedPanels} dropped` : ''}
                </td>
                <td>{i.path}</td>
                <td>{(i.notes ?? []).join('; ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.notImported.length > 0 && (
        <table class="result-table">
          <thead>
            <tr>
              <th>Not imported</th>
              <th>Where</th>
              <th>Why</th>
            </tr>
          </thead>
          <tbody>
            {report.notImported.map((i, n) => (
              <tr key={n}>
                <td>
                  {i.kind}: {i.name}
                  {i.item ? ` / ${i.item}` : ''}
                </td>
                <td>
                  {i.path}
                  {i.line ? ` (line ${i.line}, column ${i.column})` : ''}
                </td>
                <td>{i.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
