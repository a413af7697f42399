import { useState } from 'preact/hooks';
import { login, ApiError, type Me } from '../lib/api';

/** LoginPage asks for a user name and password. */
export function LoginPage({ onLogin }: { onLogin: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      onLogin(await login(username, password));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'cannot reach the server');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form class="login-box" onSubmit={submit} data-testid="login-form">
        <h1 class="brand">
          <span class="logo" aria-hidden="true" />
          dohyo
        </h1>
        <label>
          User name
          <input name="username" type="text" autoComplete="username" autoFocus required value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        {error && (
          <p class="error-text" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" class="btn primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        <p class="muted small">The first admin's password is printed at the first start and kept in &lt;data-dir&gt;/bootstrap-credentials.</p>
      </form>
    </main>
  );
}
