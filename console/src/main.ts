import { createApp } from 'vue';
import App from './App.vue';
import './style.css';
import { setUnauthorizedHandler } from './lib/http';
import { currentUrl, href, navigate, route, startRouter } from './lib/router';
import { initTheme } from './lib/theme';

initTheme();
startRouter();
// Any 401: show the login page, and come back to this exact URL afterwards.
setUnauthorizedHandler(() => {
  if (route.path !== '/login') navigate(href('/login', { next: currentUrl() }));
});
createApp(App).mount('#app');
