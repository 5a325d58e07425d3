-- People by name: the display name of a user (an officer's 姓名), shown
-- instead of the login wherever people read it.
alter table app_user add column display_name text not null default '';
