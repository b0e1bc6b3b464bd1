// Who is signed in (GET /api/v1/manage/auth/me): unknown until asked; null when access control is off or nobody is.
import { ref } from 'vue';
import { manage, type Me } from './api';

export const me = ref<Me | null>(null);

export async function refreshMe(): Promise<void> {
  try {
    me.value = await manage.me();
  } catch {
    me.value = null;
  }
}
