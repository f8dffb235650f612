// 矛盾纠纷随时报: a dispute between residents, kept in the outbox like a report (offline first),
// sent under the id the phone made; the parties are shown masked once the server has them.
import { useState } from 'preact/hooks';
import { useLiveFix } from '../hooks/useLiveFix.js';
import { t } from '../i18n/index.js';
import { isoWithOffset } from '../lib/ids.js';
import { addItem } from '../lib/outbox.js';
import { syncAfterSave } from '../syncing.js';
import { reload, toast, useStore } from '../store.js';
import { MyDisputes } from '../components/DisputeRow.jsx';

// the server's vocabulary (disputes.rules): kinds and risks
const KINDS = ['neighbours', 'family', 'property', 'labour', 'land', 'other'];
const RISKS = ['normal', 'elevated', 'may_escalate'];
const EMPTY = { kind: 'neighbours', risk: 'normal', description: '',
  parties: [{ name: '', phone: '' }, { name: '', phone: '' }] };

export function Dispute() {
  const s = useStore();
  const fix = useLiveFix();
  const [form, setForm] = useState(EMPTY);
  const [busy, setBusy] = useState(false);
  const parties = form.parties.filter((p) => p.name.trim());
  const missing = [];
  if (!fix.fix) missing.push(t('capture.need_location'));
  if (!parties.length) missing.push(t('dispute.need_party'));

  function party(i, field, value) {
    setForm({ ...form, parties: form.parties.map((p, j) => (j === i ? { ...p, [field]: value } : p)) });
  }

  async function save(e) {
    e.preventDefault();
    if (missing.length || busy) return;
    setBusy(true);
    try {
      const f = fix.fix;
      const body = {
        kind: form.kind, risk: form.risk, description: form.description.trim(),
        parties: parties.map((p) => ({ name: p.name.trim(), phone: p.phone.trim() || null })),
        location: { lon: f.lon, lat: f.lat, accuracy_m: f.accuracy_m ?? null, source: f.source },
        captured_at: isoWithOffset(new Date()),
      };
      const added = await addItem({ kind: 'dispute', user: s.session.user.username, body, photos: [] });
      setForm(EMPTY);
      await reload('items');
      toast(t('dispute.saved'), 'ok', { item: added.id });
      syncAfterSave();
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
    <form class="screen dispute" onSubmit={save} data-testid="dispute-form">
      <h2>{t('dispute.title')}</h2>
      <p class="hint">{t('dispute.confidential')}</p>
      <label>{t('dispute.kind')}
        <select value={form.kind} data-testid="dispute-kind"
          onChange={(e) => setForm({ ...form, kind: e.currentTarget.value })}>
          {KINDS.map((k) => <option value={k}>{t(`dispute.kind_${k}`)}</option>)}
        </select>
      </label>
      <label>{t('dispute.risk')}
        <select value={form.risk} data-testid="dispute-risk"
          onChange={(e) => setForm({ ...form, risk: e.currentTarget.value })}>
          {RISKS.map((r) => <option value={r}>{t(`dispute.risk_${r}`)}</option>)}
        </select>
      </label>
      {form.parties.map((p, i) => (
        <fieldset class="party">
          <legend>{t('dispute.party', { n: i + 1 })}</legend>
          <input type="text" value={p.name} maxLength={100} data-testid={`party-name-${i}`}
            aria-label={t('dispute.party_name')} placeholder={t('dispute.party_name')}
            onInput={(e) => party(i, 'name', e.currentTarget.value)} />
          <input type="tel" value={p.phone} maxLength={32} data-testid={`party-phone-${i}`}
            aria-label={t('dispute.party_phone')} placeholder={t('dispute.party_phone')}
            onInput={(e) => party(i, 'phone', e.currentTarget.value)} />
        </fieldset>
      ))}
      <label>{t('dispute.description')}
        <textarea value={form.description} maxLength={2000} data-testid="dispute-description"
          onInput={(e) => setForm({ ...form, description: e.currentTarget.value })} />
      </label>
      {missing.length > 0 && <p class="hint" role="status">{missing.join(' · ')}</p>}
      <button type="submit" class="primary" disabled={missing.length > 0 || busy}
        data-testid="dispute-save">{t('dispute.save')}</button>
    </form>
    <MyDisputes />
    </>
  );
}
