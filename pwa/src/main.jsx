import { render } from 'preact';
import { App } from './App.jsx';
import { getLang } from './i18n/index.js';
import './styles.css';

document.documentElement.lang = getLang();
render(<App />, document.getElementById('app'));
