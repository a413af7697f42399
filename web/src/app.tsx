import { useEffect, useState } from 'preact/hooks';
import { LoginPage } from './pages/LoginPage';
import { SearchPage } from './pages/SearchPage';
import { me as fetchMe, logout, setUnauthorizedHandler, type Me } from './lib/api';

type Theme = 'light' | 'dark';

function initialTheme(): Theme {
  const saved = localStorage.getItem('dohyo.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checked, setChecked] = useState(false);
  const [theme, setTheme] = useState<Theme>(initialTheme);

  // Set before the children render: charts read the theme's colours.
  document.documentElement.dataset.theme = theme;
  useEffect(() => {
    localStorage.setItem('dohyo.theme', theme);
  }, [theme]);

  useEffect(() => {
    setUnauthorizedHandler(() => setMe(null));
    fetchMe()
      .then(setMe)
      .catch(() => setMe(null))
      .finally(() => setChecked(true));
  }, []);

  useEffect(() => {
    // Client routes: everything is the search page for now.
    if (me && location.pathname !== '/search') history.replaceState(null, '', '/search' + location.search);
  }, [me]);

  if (!checked) return <div class="boot" />;
  if (!me) return <LoginPage onLogin={setMe} />;
  return (
    <div class="app">
      <header class="topbar">
        <a class="brand" href="/search">
          <span class="logo" aria-hidden="true" />
          dohyo
        </a>
        <nav class="topnav">
          <a href="/search" class="active">
            Search
          </a>
        </nav>
        <span class="spacer" />
        <button type="button" class="btn icon" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} aria-label="Switch theme" title="Light / dark theme" data-testid="theme-toggle">
          {theme === 'dark' ? '☀' : '☾'}
        </button>
        <span class="user" data-testid="user-name">
          {me.user.name}
        </span>
        <button
          type="button"
          class="btn"
          data-testid="logout"
          onClick={() => {
            void logout().finally(() => {
              setMe(null);
              history.replaceState(null, '', '/');
            });
          }}
        >
          Log out
        </button>
      </header>
      <SearchPage theme={theme} />
    </div>
  );
}
