// The command centre's tabs, and which one a route opens: read by the centre (Command.jsx) and by
// the shell (App.jsx), which starts loading the map's chunk with the centre's when the map is
// the first screen (the two arrive together instead of one after the other).
export const TABS = [['map', 'cmd.tab_map'], ['list', 'cmd.tab_list'], ['inbox', 'cmd.tab_inbox'],
  ['notices', 'cmd.tab_notices'], ['numbers', 'cmd.tab_numbers'], ['settings', 'nav.settings']];
// the call-taker (话务员) takes calls and calls back first; the rest of the centre follows
export const CALL_TABS = [['call', 'hot.tab_call'], ['callbacks', 'hot.tab_callbacks'], ...TABS];

/** The tabs of a role. */
export function tabsOf(role) {
  return role === 'call_taker' ? CALL_TABS : TABS;
}

/** The tab a route opens: its own when it names one, else the role's first. */
export function tabOf(role, routeName) {
  const tabs = tabsOf(role);
  return tabs.some(([n]) => n === routeName) ? routeName : tabs[0][0];
}
