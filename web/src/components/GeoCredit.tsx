import { useEffect, useState } from 'preact/hooks';
import { get } from '../lib/api';
import type { GeoAttribution } from '../lib/dashboards';

let cached: Promise<{ configured: boolean; attribution?: GeoAttribution; message?: string }> | null = null;

/** geoInfo asks the server once which GeoIP database it uses. */
function geoInfo() {
  if (!cached) cached = get<{ configured: boolean; attribution?: GeoAttribution; message?: string }>('/api/v1/geoip').catch(() => ({ configured: false }));
  return cached;
}

/**
 * GeoCredit credits the GeoIP database where maps appear, as its licence
 * asks (DB-IP Lite: CC BY 4.0). The text comes from the server.
 */
export function GeoCredit({ attribution }: { attribution?: GeoAttribution }) {
  const [info, setInfo] = useState<{ configured: boolean; attribution?: GeoAttribution; message?: string } | null>(attribution ? { configured: true, attribution } : null);
  useEffect(() => {
    if (attribution) setInfo({ configured: true, attribution });
    else void geoInfo().then(setInfo);
  }, [attribution]);
  if (!info) return null;
  if (!info.configured)
    return (
      <p class="geo-credit muted small" data-testid="geo-credit">
        {info.message || 'No GeoIP database is configured: map panels stay empty.'}
      </p>
    );
  if (!info.attribution)
    return (
      <p class="geo-credit muted small" data-testid="geo-credit">
        Map: Natural Earth
      </p>
    );
  const a = info.attribution;
  const safe = (u?: string) => (u && /^https:\/\//.test(u) ? u : undefined);
  return (
    <p class="geo-credit muted small" data-testid="geo-credit">
      Locations: {safe(a.url) ? <a href={safe(a.url)} target="_blank" rel="noopener noreferrer">{a.text}</a> : a.text}
      {a.license ? (
        <>
          {' '}
          · licence {safe(a.licenseUrl) ? <a href={safe(a.licenseUrl)} target="_blank" rel="noopener noreferrer">{a.license}</a> : a.license}
        </>
      ) : null}
      {' '}· map: Natural Earth
    </p>
  );
}
