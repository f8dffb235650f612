// Settings (设置) on the phone, for the worker and the handler; the command centre shows the same
// panel as one of its tabs.
import { SettingsPanel } from '../components/SettingsPanel.jsx';

export function Settings() {
  return <SettingsPanel />;
}
