import { render } from 'preact';
import { App } from './App.jsx';
import { getLang, langReady } from './i18n/index.js';
import './styles.css';

// the chosen language's messages first (English is a chunk of its own; Chinese is here)
langReady().then(() => {
  document.documentElement.lang = getLang();
  render(<App />, document.getElementById('app'));
});
