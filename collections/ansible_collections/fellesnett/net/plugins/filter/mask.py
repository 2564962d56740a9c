"""fellesnett.net.mask: text with every secret masked (nornir_tasks.ansible.live.mask_text)."""

from nornir_tasks.ansible.plugin import filter_module

FilterModule = filter_module()
