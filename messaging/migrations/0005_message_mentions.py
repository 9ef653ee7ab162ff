"""Mentions: the ids a message mentions, and a row per mentioned member for the inbox's
unread count of them.

On SQLite the new NOT NULL column rebuilds messaging_message, which has no triggers
(migration 0003 puts them on users, conversations and memberships only), so there is
nothing to make again.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0004_member_muted_pinned'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='mentions',
            field=models.JSONField(blank=True, default=list, verbose_name='mentions'),
        ),
        migrations.CreateModel(
            name='MessageMention',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.PositiveBigIntegerField(verbose_name='seq')),
                ('conversation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='messaging.conversation', verbose_name='conversation')),
                ('message', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='mention_rows', to='messaging.message', verbose_name='message')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'mention',
                'verbose_name_plural': 'mentions',
                'indexes': [models.Index(fields=['user', 'conversation', 'seq'], name='mention_user_conv_seq')],
                'constraints': [models.UniqueConstraint(fields=('message', 'user'), name='message_mention_unique')],
            },
        ),
    ]
