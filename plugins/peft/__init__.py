"""Built-in peft plugins: one module per option of conf/peft/."""
