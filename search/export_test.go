package search

// HasJob reports whether the manager still holds the job, without touching
// it (Get would reset its idle timer).
func (m *Manager) HasJob(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.jobs[id]
	return ok
}
