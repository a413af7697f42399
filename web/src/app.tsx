import { useEffect, useState } from 'preact/hooks';
import { LoginPage } from './pages/LoginPage';
import { SearchPage } from './pages/SearchPage';
import { DashboardsPage } from './pages/DashboardsPage';
import { DashboardPage } from './pages/DashboardPage';
import { AppsPage } from './pages/AppsPage';
import { MonitorsRoute, isMonitorsPath } from './pages/MonitorsRoute';
import { routeOf } from './lib/dashboards';
import { NAV_EVENT, navClick } from './lib/nav';
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
  // The client route: pages change it with navigate() (lib/nav.ts).
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const sync = () => setPath(location.pathname);
    window.addEventListener('popstate', sync);
    window.addEventListener(NAV_EVENT, sync);
    return () => {
      window.removeEventListener('popstate', sync);
      window.removeEventListener(NAV_EVENT, sync);
    };
  }, []);
  const route = routeOf(path);

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
    // Client routes: /search, /dashboards, /dashboards/{id}, /apps; anything else is the search page.
    if (me && route.page === 'other' && !isMonitorsPath(path)) history.replaceState(null, '', '/search' + location.search);
    if (me && route.page === 'other' && !isMonitorsPath(path)) setPath('/search');
  }, [me, path]);

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
          <a href="/search" class={route.page === 'search' ? 'active' : ''} onClick={navClick} data-testid="nav-search">
            Search
          </a>
          <a href="/dashboards" class={route.page === 'dashboards' || route.page === 'dashboard' ? 'active' : ''} onClick={navClick} data-testid="nav-dashboards">
            Dashboards
          </a>
          <a href="/apps" class={route.page === 'apps' ? 'active' : ''} onClick={navClick} data-testid="nav-apps">
            Apps
          </a>
          <a href="/monitors" class={isMonitorsPath(path) ? 'active' : ''} onClick={navClick} data-testid="nav-monitors">
            Monitors
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
      {route.page === 'dashboards' ? (
        <DashboardsPage />
      ) : route.page === 'dashboard' ? (
        <DashboardPage key={route.id} id={route.id} theme={theme} />
      ) : route.page === 'apps' ? (
        <AppsPage />
      ) : isMonitorsPath(path) ? (
        <MonitorsRoute />
      ) : (
        <SearchPage key={path} theme={theme} />
      )}
    </div>
  );
}
