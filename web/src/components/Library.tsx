import { useEffect, useState } from 'preact/hooks';
import { del, get, post, ApiError } from '../lib/api';
import { rangeLabel } from '../lib/timerange';
import { Modal } from './Dialogs';

export interface SavedSearch {
  id: string;
  name: string;
  query: string;
  from: string;
  to: string;
  timeZone: string;
}

export interface RecentSearch {
  query: string;
  from: string;
  to: string;
  timeZone: string;
  at: string;
}

type Pick = (s: { query: string; from: string; to: string; timeZone: string }) => void;

/** Library lists saved and recent searches. */
export function Library({ onPick, onClose, refresh }: { onPick: Pick; onClose: () => void; refresh: number }) {
  const [saved, setSaved] = useState<SavedSearch[]>([]);
  const [recent, setRecent] = useState<RecentSearch[]>([]);
  const [error, setError] = useState('');
  const [filter, setFilter] = useState('');
  const load = () => {
    get<{ savedSearches: SavedSearch[] }>('/api/v1/saved-searches')
      .then((r) => setSaved(r.savedSearches))
      .catch((e) => setError(String(e.message ?? e)));
    get<{ recentSearches: RecentSearch[] }>('/api/v1/recent-searches?limit=30')
      .then((r) => setRecent(r.recentSearches))
      .catch((e) => setError(String(e.message ?? e)));
  };
  useEffect(load, [refresh]);
  const f = filter.toLowerCase();
  const match = (s: { query: string; name?: string }) => !f || s.query.toLowerCase().includes(f) || (s.name ?? '').toLowerCase().includes(f);
  return (
    <Modal title="Searches" onClose={onClose} wide>
      <div class="library" data-testid="library">
        <input type="search" placeholder="Filter" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} aria-label="Filter searches" />
        {error && <p class="error-text">{error}</p>}
        <h3>Saved</h3>
        <ul class="lib-list">
          {saved.filter(match).map((s) => (
            <li key={s.id}>
              <button type="button" class="lib-item" onClick={() => onPick(s)} data-testid="saved-search">
                <strong>{s.name}</strong>
                <code>{s.query}</code>
                <span class="muted">{rangeLabel(s)}</span>
              </button>
              <button
                type="button"
                class="btn icon"
                aria-label={`Delete ${s.name}`}
                onClick={() => {
                  if (confirm(`Delete the saved search "${s.name}"?`)) void del(`/api/v1/saved-searches/${s.id}`).then(load);
                }}
              >
                ✕
              </button>
            </li>
          ))}
          {!saved.length && <li class="muted">No saved searches yet: run a search and press Save (Ctrl+S).</li>}
        </ul>
        <h3>Recent</h3>
        <ul class="lib-list">
          {recent.filter(match).map((s, i) => (
            <li key={i}>
              <button type="button" class="lib-item" onClick={() => onPick(s)} data-testid="recent-search">
                <code>{s.query}</code>
                <span class="muted">
                  {rangeLabel(s)} · {new Date(s.at).toLocaleString()}
                </span>
              </button>
            </li>
          ))}
          {!recent.length && <li class="muted">No recent searches.</li>}
        </ul>
      </div>
    </Modal>
  );
}

/** SaveDialog names and saves the current search. */
export function SaveDialog({ search, onClose, onSaved }: { search: { query: string; from: string; to: string; timeZone: string }; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      await post('/api/v1/saved-searches', { name, ...search });
      onSaved();
      onClose();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };
  return (
    <Modal title="Save search" onClose={onClose}>
      <form onSubmit={save} class="save-form">
        <label>
          Name
          <input type="text" value={name} required maxLength={200} autoFocus onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="save-name" />
        </label>
        <code class="save-query">{search.query}</code>
        <p class="muted">{rangeLabel(search)}</p>
        {error && <p class="error-text">{error}</p>}
        <div class="trp-actions">
          <button type="button" class="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn primary">
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}
